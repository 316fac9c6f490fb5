/**
 * The OpenAPI 3.1 description of the public API (../shared/API.md), served at /docs-json with
 * Swagger UI at /docs. Written out rather than derived, so it says exactly what the contract
 * says; a test checks that it and the gateway's routes name the same operations.
 */

const ID = (prefix: string, example: string) => ({
  type: 'string',
  pattern: `^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`,
  example,
});
const ACC = 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C';
const ACC2 = 'acc_01JD3Z8QAA6V3F5W7X9Y1A2B3D';
const TXN = 'txn_01JD3Z9T1M2N3P4Q5R6S7T8V9W';
const amount = {
  type: 'integer',
  minimum: 1,
  maximum: 1_000_000_000_000_000,
  description:
    'Minor units (cents, credits…), as a JSON integer. Floats, strings, zero and negatives are refused.',
  example: 2500,
};
const currency = {
  type: 'string',
  pattern: '^[A-Z][A-Z0-9]{2,9}$',
  example: 'USD',
  description: 'ISO 4217 code or a custom unit such as CREDITS.',
};
const metadata = {
  type: 'object',
  maxProperties: 50,
  additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
  example: { orderId: 'ord_981' },
};
const description = { type: 'string', maxLength: 500, example: 'Invoice 2024-117' };

const problem = (code: string, status: number, detail: string) => ({
  description: detail,
  content: {
    'application/problem+json': {
      schema: { $ref: '#/components/schemas/Problem' },
      example: {
        type: `https://tally.dev/problems/${code}`,
        title: {
          400: 'Bad Request',
          401: 'Unauthorized',
          404: 'Not Found',
          409: 'Conflict',
          413: 'Content Too Large',
          415: 'Unsupported Media Type',
          422: 'Unprocessable Content',
          503: 'Service Unavailable',
        }[status],
        status,
        detail,
        code,
        requestId: '2b1c6a1e-58f5-4f63-9b0e-2f0b8d1c9a77',
      },
    },
  },
});

const common = {
  400: problem('validation_error', 400, 'The request is not valid (each bad field is listed in `errors`).'),
  401: problem('unauthorized', 401, 'The API key is missing, not valid, or revoked.'),
};
const writes = {
  413: problem('payload_too_large', 413, 'The request body is larger than 64 KiB.'),
  415: problem('unsupported_media_type', 415, 'Send the body as application/json.'),
};
const page = (item: string) => ({
  type: 'object',
  required: ['data', 'nextCursor'],
  properties: {
    data: { type: 'array', items: { $ref: `#/components/schemas/${item}` } },
    nextCursor: { type: ['string', 'null'] },
  },
});
const ok = (schema: string, example?: unknown, status = 'OK') => ({
  description: status,
  content: {
    'application/json': {
      schema: { $ref: `#/components/schemas/${schema}` },
      ...(example ? { example } : {}),
    },
  },
});

const transactionExample = {
  id: TXN,
  type: 'transfer',
  status: 'pending',
  amount: 2500,
  currency: 'USD',
  sourceAccountId: ACC,
  destinationAccountId: ACC2,
  parentTransactionId: null,
  description: 'Invoice 2024-117',
  metadata: { orderId: 'ord_981' },
  failure: null,
  createdAt: '2026-11-21T12:00:00.000Z',
  completedAt: null,
};
const accountExample = {
  id: ACC,
  currency: 'USD',
  externalRef: 'user_42',
  status: 'active',
  balance: { posted: 10000, held: 0, available: 10000 },
  lowBalanceThreshold: 500,
  metadata: {},
  createdAt: '2026-11-21T12:00:00.000Z',
};

const txnBody = (type: string, required: string[], extra: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  required: ['type', ...required],
  properties: { type: { const: type }, ...extra, description, metadata },
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Tally API',
    version: '1.0.0',
    description:
      'Move money and credits reliably. Writes are accepted in one database transaction and applied in the background exactly once. ' +
      'Errors are RFC 9457 problem+json with a stable `code`. Every POST accepts an `Idempotency-Key` (required on transactions).',
  },
  servers: [{ url: '/' }],
  security: [{ apiKey: [] }],
  tags: [{ name: 'Accounts' }, { name: 'Transactions' }],
  paths: {
    '/v1/accounts': {
      post: {
        tags: ['Accounts'],
        operationId: 'createAccount',
        summary: 'Open an account',
        parameters: [
          { $ref: '#/components/parameters/IdempotencyKeyOptional' },
          { $ref: '#/components/parameters/RequestId' },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/CreateAccount' },
              example: { currency: 'USD', externalRef: 'user_42', lowBalanceThreshold: 500 },
            },
          },
        },
        responses: {
          201: {
            ...ok('Account', accountExample, 'Created'),
            headers: { Location: { schema: { type: 'string' } } },
          },
          ...common,
          409: problem('external_ref_taken', 409, 'Another account of this tenant has that externalRef.'),
          422: problem(
            'idempotency_key_reused',
            422,
            'The Idempotency-Key was used with a different request.',
          ),
          ...writes,
        },
      },
      get: {
        tags: ['Accounts'],
        operationId: 'listAccounts',
        summary: 'List accounts, newest first',
        parameters: [
          { name: 'externalRef', in: 'query', schema: { type: 'string' } },
          { $ref: '#/components/parameters/Limit' },
          { $ref: '#/components/parameters/Cursor' },
        ],
        responses: { 200: ok('AccountPage'), ...common },
      },
    },
    '/v1/accounts/{id}': {
      get: {
        tags: ['Accounts'],
        operationId: 'getAccount',
        summary: 'Get an account and its balance',
        parameters: [{ name: 'id', in: 'path', required: true, schema: ID('acc', ACC) }],
        responses: {
          200: ok('Account', accountExample),
          401: common[401],
          404: problem('account_not_found', 404, 'No such account in this tenant.'),
        },
      },
    },
    '/v1/accounts/{id}/entries': {
      get: {
        tags: ['Accounts'],
        operationId: 'listEntries',
        summary: "List an account's ledger entries, newest first",
        parameters: [
          { name: 'id', in: 'path', required: true, schema: ID('acc', ACC) },
          { $ref: '#/components/parameters/Limit' },
          { $ref: '#/components/parameters/Cursor' },
        ],
        responses: {
          200: ok('EntryPage'),
          ...common,
          404: problem('account_not_found', 404, 'No such account in this tenant.'),
        },
      },
    },
    '/v1/transactions': {
      post: {
        tags: ['Transactions'],
        operationId: 'createTransaction',
        summary: 'Request a deposit, withdrawal, transfer, charge or refund',
        description:
          'Checked before answering: body shape, accounts exist in this tenant, currencies match, frozen accounts, refundable parent. ' +
          'Funds are checked when the transaction is applied: it then ends `failed` with `failure.code = "insufficient_funds"`.',
        parameters: [
          { $ref: '#/components/parameters/IdempotencyKey' },
          {
            name: 'Prefer',
            in: 'header',
            schema: { type: 'string', example: 'wait=5' },
            description:
              'wait=N (N ≤ 30): answer 200 as soon as the transaction is final, or 202 after N seconds.',
          },
          { $ref: '#/components/parameters/RequestId' },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/CreateTransaction' },
              examples: {
                deposit: {
                  value: { type: 'deposit', destinationAccountId: ACC, amount: 10000, currency: 'USD' },
                },
                withdrawal: {
                  value: { type: 'withdrawal', sourceAccountId: ACC, amount: 2000, currency: 'USD' },
                },
                transfer: {
                  value: {
                    type: 'transfer',
                    sourceAccountId: ACC,
                    destinationAccountId: ACC2,
                    amount: 2500,
                    currency: 'USD',
                    description: 'Invoice 2024-117',
                  },
                },
                charge: { value: { type: 'charge', sourceAccountId: ACC, amount: 990, currency: 'USD' } },
                refund: { value: { type: 'refund', parentTransactionId: TXN, amount: 500 } },
              },
            },
          },
        },
        responses: {
          200: ok(
            'Transaction',
            { ...transactionExample, status: 'succeeded', completedAt: '2026-11-21T12:00:00.040Z' },
            'Final (with Prefer: wait)',
          ),
          202: {
            ...ok('Transaction', transactionExample, 'Accepted; applied in the background'),
            headers: {
              Location: { schema: { type: 'string', example: `/v1/transactions/${TXN}` } },
              'Idempotent-Replayed': {
                schema: { type: 'string', enum: ['true'] },
                description: 'Present on a replayed answer.',
              },
            },
          },
          400: problem('validation_error', 400, 'The request is not valid; or idempotency_key_required.'),
          401: common[401],
          404: problem(
            'account_not_found',
            404,
            'An account (account_not_found) or the parent transaction (transaction_not_found) does not exist in this tenant.',
          ),
          409: problem(
            'idempotency_key_in_use',
            409,
            'A request with this Idempotency-Key is still being handled.',
          ),
          422: problem(
            'currency_mismatch',
            422,
            'currency_mismatch, account_frozen, transaction_not_refundable, refund_exceeds_remaining or idempotency_key_reused.',
          ),
          ...writes,
        },
      },
      get: {
        tags: ['Transactions'],
        operationId: 'listTransactions',
        summary: 'List transactions, newest first',
        parameters: [
          { name: 'accountId', in: 'query', schema: ID('acc', ACC) },
          {
            name: 'status',
            in: 'query',
            schema: { type: 'string', enum: ['pending', 'processing', 'succeeded', 'failed'] },
          },
          {
            name: 'type',
            in: 'query',
            schema: { type: 'string', enum: ['deposit', 'withdrawal', 'transfer', 'charge', 'refund'] },
          },
          { $ref: '#/components/parameters/Limit' },
          { $ref: '#/components/parameters/Cursor' },
        ],
        responses: { 200: ok('TransactionPage'), ...common },
      },
    },
    '/v1/transactions/{id}': {
      get: {
        tags: ['Transactions'],
        operationId: 'getTransaction',
        summary: 'Get a transaction',
        parameters: [{ name: 'id', in: 'path', required: true, schema: ID('txn', TXN) }],
        responses: {
          200: ok('Transaction', transactionExample),
          401: common[401],
          404: problem('transaction_not_found', 404, 'No such transaction in this tenant.'),
        },
      },
    },
  },
  components: {
    securitySchemes: {
      apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer tk_…' },
    },
    parameters: {
      IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        required: true,
        schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
        example: 'order-981-pay',
      },
      IdempotencyKeyOptional: {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
      },
      RequestId: {
        name: 'X-Request-Id',
        in: 'header',
        required: false,
        schema: { type: 'string', maxLength: 128 },
        description: 'Echoed, and carried through every service log.',
      },
      Limit: {
        name: 'limit',
        in: 'query',
        schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
      },
      Cursor: {
        name: 'cursor',
        in: 'query',
        schema: { type: 'string' },
        description: 'nextCursor of the previous page.',
      },
    },
    schemas: {
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          code: { type: 'string', description: 'Stable snake_case code.' },
          errors: {
            type: 'array',
            items: {
              type: 'object',
              required: ['field', 'message'],
              properties: { field: { type: 'string' }, message: { type: 'string' } },
            },
          },
          requestId: { type: 'string' },
        },
      },
      CreateAccount: {
        type: 'object',
        additionalProperties: false,
        required: ['currency'],
        properties: {
          currency,
          externalRef: { type: ['string', 'null'], minLength: 1, maxLength: 200 },
          metadata,
          lowBalanceThreshold: { type: ['integer', 'null'], minimum: 0, maximum: 1_000_000_000_000_000 },
        },
      },
      Balance: {
        type: 'object',
        required: ['posted', 'held', 'available'],
        properties: {
          posted: { type: 'integer' },
          held: { type: 'integer' },
          available: { type: 'integer', description: 'posted − held' },
        },
      },
      Account: {
        type: 'object',
        required: ['id', 'currency', 'externalRef', 'status', 'balance', 'metadata', 'createdAt'],
        properties: {
          id: ID('acc', ACC),
          currency,
          externalRef: { type: ['string', 'null'] },
          status: { type: 'string', enum: ['active', 'frozen'] },
          balance: { $ref: '#/components/schemas/Balance' },
          lowBalanceThreshold: { type: ['integer', 'null'] },
          metadata,
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      Entry: {
        type: 'object',
        required: ['id', 'transactionId', 'amount', 'balanceAfter', 'createdAt'],
        properties: {
          id: ID('ent', 'ent_01JD3ZA0000000000000000000'),
          transactionId: ID('txn', TXN),
          amount: { type: 'integer', description: 'Signed: + into the account, − out of it.' },
          balanceAfter: { type: 'integer' },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      CreateTransaction: {
        oneOf: [
          txnBody('deposit', ['destinationAccountId', 'amount', 'currency'], {
            destinationAccountId: ID('acc', ACC),
            amount,
            currency,
          }),
          txnBody('withdrawal', ['sourceAccountId', 'amount', 'currency'], {
            sourceAccountId: ID('acc', ACC),
            amount,
            currency,
          }),
          txnBody('transfer', ['sourceAccountId', 'destinationAccountId', 'amount', 'currency'], {
            sourceAccountId: ID('acc', ACC),
            destinationAccountId: ID('acc', ACC2),
            amount,
            currency,
          }),
          txnBody('charge', ['sourceAccountId', 'amount', 'currency'], {
            sourceAccountId: ID('acc', ACC),
            amount,
            currency,
          }),
          txnBody('refund', ['parentTransactionId'], {
            parentTransactionId: ID('txn', TXN),
            amount: {
              ...amount,
              description: 'Default: all that is left to refund of the parent charge or transfer.',
            },
          }),
        ],
        discriminator: { propertyName: 'type' },
      },
      Transaction: {
        type: 'object',
        required: Object.keys(transactionExample),
        properties: {
          id: ID('txn', TXN),
          type: { type: 'string', enum: ['deposit', 'withdrawal', 'transfer', 'charge', 'refund'] },
          status: { type: 'string', enum: ['pending', 'processing', 'succeeded', 'failed'] },
          amount: { type: 'integer' },
          currency,
          sourceAccountId: { type: ['string', 'null'] },
          destinationAccountId: { type: ['string', 'null'] },
          parentTransactionId: { type: ['string', 'null'] },
          description: { type: ['string', 'null'] },
          metadata,
          failure: {
            oneOf: [
              { type: 'null' },
              {
                type: 'object',
                required: ['code', 'message'],
                properties: {
                  code: { type: 'string', example: 'insufficient_funds' },
                  message: { type: 'string' },
                },
              },
            ],
          },
          createdAt: { type: 'string', format: 'date-time' },
          completedAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
      AccountPage: page('Account'),
      EntryPage: page('Entry'),
      TransactionPage: page('Transaction'),
    },
  },
};
