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
const TXN2 = 'txn_01JD3ZD4E5F6G7H8J9K0M1N2P3';
const HOLD = 'hold_01JD3ZB2C3D4E5F6G7H8J9K0MN';
const MTR = 'mtr_01JD3ZC7R8S9T0V1W2X3Y4Z5A6';
const WHE = 'whe_01JD3ZE5F6G7H8J9K0M1N2P3Q4';
const DLV = 'dlv_01JD3ZF6G7H8J9K0M1N2P3Q4R5';
const EVT = 'evt_01JD3ZF0A1B2C3D4E5F6G7H8J9';
const SECRET = 'whsec_Yeu6+LP7aIELtzcYU2lPvolIR/trbeeT';
const SECRET2 = 'whsec_gV9PMXzaxTmph89u5bP8MZ12qSwH31dQ';
/** Every transaction type a response can show; `capture` only comes from capturing a hold. */
const transactionTypes = ['deposit', 'withdrawal', 'transfer', 'charge', 'refund', 'capture'];
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

const problemBody = (code: string, status: number, detail: string) => ({
  type: `https://tally.dev/problems/${code}`,
  title: {
    400: 'Bad Request',
    401: 'Unauthorized',
    402: 'Payment Required',
    404: 'Not Found',
    409: 'Conflict',
    413: 'Content Too Large',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Content',
    429: 'Too Many Requests',
    503: 'Service Unavailable',
  }[status],
  status,
  detail,
  code,
  requestId: '2b1c6a1e-58f5-4f63-9b0e-2f0b8d1c9a77',
});
const problem = (code: string, status: number, detail: string) => ({
  description: detail,
  content: {
    'application/problem+json': {
      schema: { $ref: '#/components/schemas/Problem' },
      example: problemBody(code, status, detail),
    },
  },
});
/** One status that several codes share: one named example per `code`. */
const problems = (status: number, cases: [code: string, detail: string][]) => ({
  description: cases.map(([code, detail]) => `\`${code}\`: ${detail}`).join(' '),
  content: {
    'application/problem+json': {
      schema: { $ref: '#/components/schemas/Problem' },
      examples: Object.fromEntries(
        cases.map(([code, detail]) => [code, { summary: code, value: problemBody(code, status, detail) }]),
      ),
    },
  },
});

const common = {
  400: problem('validation_error', 400, 'The request is not valid (each bad field is listed in `errors`).'),
  401: problem('unauthorized', 401, 'The API key is missing, not valid, or revoked.'),
  429: {
    ...problem(
      'rate_limited',
      429,
      'Too many requests of this class (writes, reads or events) for this API key; retry after Retry-After seconds.',
    ),
    headers: {
      'Retry-After': {
        description: 'Seconds until a request of this class is allowed again.',
        schema: { type: 'integer' },
      },
      'RateLimit-Policy': {
        description:
          'The bucket (IETF RateLimit headers draft): quota `q` per window `w` seconds, e.g. `"writes";q=200;w=2`. Sent on every answer.',
        schema: { type: 'string' },
      },
      RateLimit: {
        description:
          'Requests left `r` and seconds `t` until the quota is whole again, e.g. `"writes";r=0;t=2`. Sent on every answer.',
        schema: { type: 'string' },
      },
    },
  },
};
const writes = {
  413: problem('payload_too_large', 413, 'The request body is larger than 64 KiB.'),
  415: problem('unsupported_media_type', 415, 'Send the body as application/json.'),
};
const validationError: [string, string] = [
  'validation_error',
  'The request is not valid (each bad field is listed in `errors`).',
];
const keyRequired: [string, string] = [
  'idempotency_key_required',
  'This route needs an Idempotency-Key header.',
];
const keyInUse: [string, string] = [
  'idempotency_key_in_use',
  'A request with this Idempotency-Key is still being handled (retry after Retry-After).',
];
const keyReused: [string, string] = [
  'idempotency_key_reused',
  'The Idempotency-Key was used with a different request.',
];
const accountNotFound: [string, string] = ['account_not_found', 'No such account in this tenant.'];
const accountFrozen: [string, string] = ['account_frozen', 'The account is frozen.'];
const holdNotFound: [string, string] = ['hold_not_found', 'No such hold in this tenant.'];
const holdNotActive: [string, string] = [
  'hold_not_active',
  'The hold is captured, voided, expired or already being captured; only an active hold can be captured or voided.',
];
const endpointNotFound: [string, string] = [
  'webhook_endpoint_not_found',
  'No such webhook endpoint in this tenant (never created, deleted, or not a `whe_…` id).',
];
const deliveryNotFound: [string, string] = [
  'webhook_delivery_not_found',
  'No such delivery for this webhook endpoint.',
];
/** `webhook_url_refused`, once per reason the URL policy gives (one named example each). */
const urlRefusedReasons: [name: string, detail: string][] = [
  ['not_a_url', 'The URL is not valid.'],
  ['not_https', 'Webhook URLs must use https.'],
  ['credentials', 'Webhook URLs may not carry credentials.'],
  ['unresolvable', 'The host hooks.example.invalid cannot be resolved.'],
  ['dns_timeout', 'The host hooks.example.com did not resolve within 5 s (its name servers did not answer).'],
  [
    'private_address',
    'The host intranet.example.com resolves to a private, loopback or link-local address (10.0.0.7); allow it with WEBHOOK_ALLOWED_HOSTS.',
  ],
];
/** A 422 that answers `webhook_url_refused` (for any reason the policy gives) or one of `others`. */
const urlRefused = (others: [code: string, detail: string][] = []) => {
  const rest = problems(422, others);
  return {
    description: [
      '`webhook_url_refused`: the URL is not a valid URL; is not http(s) (https only, in production); carries credentials (user:password@); ' +
        'names a host that cannot be resolved, or not within WEBHOOK_DNS_TIMEOUT_MS (5 s); or names a host that resolves to a private, loopback, link-local (or otherwise non-public) address, ' +
        'unless WEBHOOK_ALLOWED_HOSTS allows that host or a CIDR holding its addresses. `detail` says which.',
      ...(others.length > 0 ? [rest.description] : []),
    ].join(' '),
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
        examples: {
          ...Object.fromEntries(
            urlRefusedReasons.map(([name, detail]) => [
              `webhook_url_refused_${name}`,
              {
                summary: `webhook_url_refused (${name})`,
                value: problemBody('webhook_url_refused', 422, detail),
              },
            ]),
          ),
          ...rest.content['application/problem+json'].examples,
        },
      },
    },
  };
};
const replayedHeader = {
  'Idempotent-Replayed': {
    schema: { type: 'string', enum: ['true'] },
    description: 'Present on a replayed answer.',
  },
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

const holdExample = {
  id: HOLD,
  accountId: ACC,
  amount: 2500,
  currency: 'USD',
  status: 'active',
  expiresAt: '2026-11-28T12:00:00.000Z',
  createdAt: '2026-11-21T12:00:00.000Z',
};
const captureExample = {
  ...transactionExample,
  id: TXN2,
  type: 'capture',
  amount: 2000,
  destinationAccountId: null,
  description: null,
  metadata: { holdId: HOLD },
};
const meterExample = {
  id: MTR,
  eventType: 'api.call',
  aggregation: 'sum',
  property: 'tokens',
  unitPrice: 2,
  currency: 'USD',
  createdAt: '2026-11-21T12:00:00.000Z',
};
const usageEventExample = {
  id: 'req-7f3a9c',
  type: 'api.call',
  accountId: ACC,
  timestamp: '2026-11-21T11:59:58.000Z',
  properties: { tokens: 1200, model: 'small' },
  status: 'processed',
  receivedAt: '2026-11-21T12:00:00.000Z',
  processedAt: '2026-11-21T12:00:00.080Z',
  category: 'standard',
  billing: {
    status: 'charged',
    meterId: MTR,
    quantity: 1200,
    amount: 2400,
    currency: 'USD',
    transactionId: TXN2,
    failure: null,
  },
  failure: null,
};

const date = (description: string) => ({ type: 'string', format: 'date-time', description });
const nullableFailure = (codes: string[], description: string) => ({
  oneOf: [
    { type: 'null' },
    {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string', enum: codes }, message: { type: 'string' } },
    },
  ],
  description,
});
const eventType = {
  type: 'string',
  pattern: '^[A-Za-z0-9_.:-]{1,100}$',
  example: 'api.call',
};
const usageProperties = {
  type: 'object',
  maxProperties: 50,
  propertyNames: { pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
  additionalProperties: { type: ['string', 'number', 'boolean', 'null'], maxLength: 1000 },
  description:
    'Flat: at most 50 keys; each value a string (≤ 1000 characters), a number (integers are kept exactly, at any size; a float stays a float, 1.0 included), a boolean or null.',
  example: { tokens: 1200, model: 'small' },
};
const usageTotals = {
  currency: {
    type: ['string', 'null'],
    description: 'The currency of the amounts; null only if a day mixes meters of several currencies.',
  },
  events: { type: 'integer', description: 'Metered events in the bucket.' },
  quantity: { type: 'integer', description: 'Sum of the quantities the meters measured.' },
  amount: {
    type: 'integer',
    description: "Minor units charged: exactly the ledger's usage charges for these events.",
  },
  unbilledEvents: {
    type: 'integer',
    description: 'Events priced but not charged (insufficient funds, frozen or unknown account…).',
  },
};
const usageTotalKeys = Object.keys(usageTotals);

/** Event types a webhook endpoint can subscribe to. */
const webhookEventTypes = [
  'transaction.succeeded',
  'transaction.failed',
  'hold.created',
  'hold.captured',
  'hold.voided',
  'hold.expired',
  'account.balance_low',
  'usage.charged',
  'usage.charge_failed',
];
const webhookUrl = {
  type: 'string',
  format: 'uri',
  minLength: 1,
  maxLength: 2000,
  example: 'https://example.com/hooks/tally',
  description:
    'Where deliveries are POSTed: https (http is accepted outside production), no credentials, and a host resolving only to public addresses ' +
    '(unless WEBHOOK_ALLOWED_HOSTS allows it). Checked again at every delivery, so a host that later resolves inside is not reached.',
};
const webhookEventTypesField = {
  type: 'array',
  maxItems: webhookEventTypes.length,
  items: { type: 'string', enum: webhookEventTypes },
  example: ['transaction.succeeded', 'transaction.failed'],
  description:
    'The event types to deliver; empty (or, at creation, absent) means all of them. Repeats are dropped.',
};
const webhookDescription = {
  type: ['string', 'null'],
  maxLength: 500,
  example: 'Production receiver',
};
const endpointExample = {
  id: WHE,
  url: 'https://example.com/hooks/tally',
  description: 'Production receiver',
  eventTypes: ['transaction.succeeded', 'transaction.failed'],
  status: 'enabled',
  disabledReason: null,
  createdAt: '2026-11-21T12:00:00.000Z',
  updatedAt: '2026-11-21T12:00:00.000Z',
};
const deliveryExample = {
  id: DLV,
  eventId: EVT,
  eventType: 'transaction.succeeded',
  status: 'pending',
  attempts: [
    {
      attempt: 1,
      attemptedAt: '2026-11-21T12:00:00.180Z',
      statusCode: 503,
      latencyMs: 84,
      responseSnippet: 'upstream unavailable',
      error: 'HTTP 503',
    },
  ],
  nextAttemptAt: '2026-11-21T12:00:05.180Z',
  createdAt: '2026-11-21T12:00:00.100Z',
  completedAt: null,
};
const webhookEventExample = {
  id: EVT,
  type: 'transaction.succeeded',
  createdAt: '2026-11-21T12:00:00.040Z',
  data: { ...transactionExample, status: 'succeeded', completedAt: '2026-11-21T12:00:00.040Z' },
};
const endpointId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: ID('whe', WHE),
};
/** How deliveries work, for the document's description (Swagger UI renders it as Markdown). */
const webhookDeliveryDocs = [
  '## Webhooks',
  '',
  'Register an endpoint (POST /v1/webhook-endpoints) and Tally POSTs each event of the types it subscribes to, as JSON, following ' +
    '[Standard Webhooks](https://www.standardwebhooks.com/):',
  '',
  '- Body: `{ "id": "evt_…", "type", "createdAt", "data": { … } }`. `data` is the transaction (`transaction.succeeded`, `transaction.failed`), ' +
    'the hold (`hold.created`, `hold.captured`, `hold.voided`, `hold.expired`), `{ accountId, currency, available, threshold }` (`account.balance_low`), ' +
    'or the usage event and its price with the `transactionId` (`usage.charged`) or the `failure` (`usage.charge_failed`).',
  '- `webhook-id`: the event id, the same on every retry of it: deduplicate on it.',
  '- `webhook-timestamp`: when this attempt was signed, in Unix seconds. Refuse messages too far from now (say 5 minutes) to stop replays.',
  '- `webhook-signature`: `v1,` + base64(HMAC-SHA256(key, `"{webhook-id}.{webhook-timestamp}.{body}"`)), where key is the endpoint secret ' +
    'base64-decoded without its `whsec_` prefix, and body is the raw request body, byte for byte. For 24 hours after a secret rotation the header ' +
    'carries two signatures separated by a space (new secret and previous one): accept the message if any `v1,` signature matches.',
  '',
  'A 2xx answer within 10 seconds is success. Anything else (another status, a timeout, a refused connection) is retried with exponential backoff ' +
    'and ±20% jitter, by default 5 s, 5 min, 30 min, 2 h, 5 h and 10 h after the attempt before; a `Retry-After` header (seconds or HTTP date) ' +
    'makes the wait at least that long. When the schedule is exhausted the delivery is `failed` and dead-lettered for operators; send it again with ' +
    'POST /v1/webhook-endpoints/{id}/deliveries/{deliveryId}/retry, or everything failed since a time with POST /v1/webhook-endpoints/{id}/recover. ' +
    'Each attempt is logged: GET /v1/webhook-endpoints/{id}/deliveries.',
  '',
  'An answer of **410 Gone** disables the endpoint at once; so does failing without a single success for **5 days** — the endpoint turns `disabled` ' +
    'with a `disabledReason`, and the tenant is emailed. A disabled endpoint receives no new events; its pending deliveries wait until it is ' +
    'enabled again (PATCH `{ "status": "enabled" }`). Events about one account reach an endpoint in order: a delivery waits while an earlier one ' +
    'about the same account to that endpoint is still pending (being retried).',
  '',
  'Verifying a delivery in Node, without dependencies:',
  '',
  '```js',
  "import { createHmac, timingSafeEqual } from 'node:crypto';",
  '',
  '// secret: "whsec_…"; headers: lower-case names; body: the raw request body as a string, exactly as received.',
  'export function verifyTallyWebhook(secret, headers, body) {',
  "  const id = headers['webhook-id'];",
  "  const timestamp = headers['webhook-timestamp'];",
  "  const signatures = headers['webhook-signature'] ?? '';",
  "  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) throw new Error('timestamp too old or too new');",
  "  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');",
  "  const expected = Buffer.from(createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64'));",
  "  const valid = signatures.split(' ').some((entry) => {",
  "    const [version, signature = ''] = entry.split(',');",
  '    const given = Buffer.from(signature);',
  "    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);",
  '  });',
  "  if (!valid) throw new Error('no valid signature');",
  '  return JSON.parse(body); // { id, type, createdAt, data }: id is webhook-id, deduplicate on it',
  '}',
  '```',
].join('\n');

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
      'Errors are RFC 9457 problem+json with a stable `code`. Every POST accepts an `Idempotency-Key` (required on transactions and holds). ' +
      'Holds reserve funds now and capture them later; usage events are recorded, priced by meters and charged in the background. ' +
      'Webhook endpoints receive signed outcome events (see Webhooks below).\n\n' +
      webhookDeliveryDocs,
  },
  servers: [{ url: '/' }],
  security: [{ apiKey: [] }],
  tags: [
    { name: 'Accounts' },
    { name: 'Transactions' },
    { name: 'Holds', description: 'Reserve available funds now; capture or void them later.' },
    {
      name: 'Usage',
      description: 'Record usage events, price them with meters, and read usage totals.',
    },
    {
      name: 'Webhooks',
      description:
        'Register HTTPS endpoints that receive signed events (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature), ' +
        'rotate their secrets, read every delivery attempt, and send failed deliveries again. ' +
        'How deliveries are signed, retried and ordered, and how to verify them, is under Webhooks in the description above.',
    },
  ],
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
          429: common[429],
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
          'Funds are checked when the transaction is applied: it then ends `failed` with `failure.code = "insufficient_funds"`. ' +
          'A `capture` is not requested here: capture a hold (POST /v1/holds/{id}/capture).',
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
          429: common[429],
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
            schema: { type: 'string', enum: transactionTypes },
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
          429: common[429],
          404: problem('transaction_not_found', 404, 'No such transaction in this tenant.'),
        },
      },
    },
    '/v1/holds': {
      post: {
        tags: ['Holds'],
        operationId: 'createHold',
        summary: 'Hold funds on an account',
        description:
          'Decided before answering, in one database transaction: the account is locked, its available balance (posted − held) must cover `amount`, ' +
          'and `amount` moves from available to held; `hold.created` is published. The hold lasts `expiresInSeconds`: past that it can no longer be ' +
          "captured or voided, and the worker's expiry sweep releases it (status `expired`, event `hold.expired`).",
        parameters: [
          { $ref: '#/components/parameters/IdempotencyKey' },
          { $ref: '#/components/parameters/RequestId' },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/CreateHold' },
              example: { accountId: ACC, amount: 2500, currency: 'USD', expiresInSeconds: 604800 },
            },
          },
        },
        responses: {
          201: {
            ...ok('Hold', holdExample, 'Created; the amount is held'),
            headers: {
              Location: { schema: { type: 'string', example: `/v1/holds/${HOLD}` } },
              ...replayedHeader,
            },
          },
          400: problems(400, [validationError, keyRequired]),
          401: common[401],
          429: common[429],
          402: problem(
            'insufficient_funds',
            402,
            'The available balance (posted − held) of the account is less than the amount.',
          ),
          404: problems(404, [accountNotFound]),
          409: problems(409, [keyInUse]),
          422: problems(422, [
            ['currency_mismatch', "The currency is not the account's currency."],
            accountFrozen,
            keyReused,
          ]),
          ...writes,
        },
      },
    },
    '/v1/holds/{id}': {
      get: {
        tags: ['Holds'],
        operationId: 'getHold',
        summary: 'Get a hold',
        parameters: [{ name: 'id', in: 'path', required: true, schema: ID('hold', HOLD) }],
        responses: {
          200: ok('Hold', holdExample),
          401: common[401],
          429: common[429],
          404: problems(404, [holdNotFound]),
        },
      },
    },
    '/v1/holds/{id}/capture': {
      post: {
        tags: ['Holds'],
        operationId: 'captureHold',
        summary: 'Capture a hold (all of it, or part)',
        description:
          'Checked before answering: the hold is active (not captured, voided, expired, nor already being captured), `amount` is at most the hold, ' +
          'and the account is not frozen. Answers a pending `capture` transaction, and the hold is then spoken for (no second capture, no void, no expiry). ' +
          "The worker posts the amount from the account to the tenant's revenue, releases the rest of the hold and marks it `captured` (`hold.captured`). " +
          'Follow the transaction at Location.',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: ID('hold', HOLD) },
          { $ref: '#/components/parameters/IdempotencyKey' },
          { $ref: '#/components/parameters/RequestId' },
        ],
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/CaptureHold' },
              examples: {
                whole: { summary: 'The whole hold', value: {} },
                partial: { summary: 'Part of it; the rest is released', value: { amount: 2000 } },
              },
            },
          },
        },
        responses: {
          202: {
            ...ok('Transaction', captureExample, 'Accepted; the capture is applied in the background'),
            headers: {
              Location: { schema: { type: 'string', example: `/v1/transactions/${TXN2}` } },
              ...replayedHeader,
            },
          },
          400: problems(400, [validationError, keyRequired]),
          401: common[401],
          429: common[429],
          404: problems(404, [holdNotFound]),
          409: problems(409, [holdNotActive, keyInUse]),
          422: problems(422, [
            ['capture_exceeds_hold', 'The amount is more than the hold.'],
            accountFrozen,
            keyReused,
          ]),
          ...writes,
        },
      },
    },
    '/v1/holds/{id}/void': {
      post: {
        tags: ['Holds'],
        operationId: 'voidHold',
        summary: 'Void a hold',
        description:
          'Releases the whole hold at once, in one database transaction: the amount goes back to available, the hold ends `voided`, and `hold.voided` is published.',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: ID('hold', HOLD) },
          { $ref: '#/components/parameters/IdempotencyKey' },
          { $ref: '#/components/parameters/RequestId' },
        ],
        requestBody: {
          required: false,
          description: 'No body, or an empty object.',
          content: {
            'application/json': {
              schema: { type: 'object', additionalProperties: false, maxProperties: 0 },
              example: {},
            },
          },
        },
        responses: {
          200: {
            ...ok('Hold', { ...holdExample, status: 'voided' }, 'Voided; the amount is available again'),
            headers: replayedHeader,
          },
          400: problems(400, [keyRequired, validationError]),
          401: common[401],
          429: common[429],
          404: problems(404, [holdNotFound]),
          409: problems(409, [holdNotActive, keyInUse]),
          422: problems(422, [keyReused]),
          ...writes,
        },
      },
    },
    '/v1/events': {
      post: {
        tags: ['Usage'],
        operationId: 'recordUsageEvents',
        summary: 'Record one usage event, or a batch of up to 500',
        description:
          'Valid new events are stored (the raw audit trail) in one database transaction and processed in the background: checked against the ' +
          "business rules, priced by the event type's meter, and charged to `accountId` (see GET /v1/events/{id}). " +
          'An `id` the tenant already sent is a duplicate: counted, never processed twice. ' +
          'A batch answers per index — one bad event does not sink the batch. A single event that is not valid answers 400 `validation_error`, ' +
          'and a single event naming an unknown account answers 404 `account_not_found`.',
        parameters: [
          { $ref: '#/components/parameters/IdempotencyKeyOptional' },
          { $ref: '#/components/parameters/RequestId' },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                oneOf: [
                  { $ref: '#/components/schemas/UsageEventInput' },
                  { $ref: '#/components/schemas/UsageEventBatch' },
                ],
              },
              examples: {
                single: {
                  value: {
                    id: 'req-7f3a9c',
                    type: 'api.call',
                    accountId: ACC,
                    timestamp: '2026-11-21T11:59:58Z',
                    properties: { tokens: 1200, model: 'small' },
                  },
                },
                batch: {
                  value: {
                    events: [
                      { id: 'req-7f3a9d', type: 'api.call', accountId: ACC, properties: { tokens: 300 } },
                      { id: 'login-8812', type: 'user.login', accountId: null },
                    ],
                  },
                },
              },
            },
          },
        },
        responses: {
          202: {
            ...ok(
              'UsageIngestResult',
              {
                accepted: 1,
                duplicates: 0,
                rejected: [
                  {
                    index: 1,
                    code: 'validation_error',
                    message: 'type: must be 1-100 letters, digits, _ . : -',
                  },
                ],
              },
              'Accepted; stored events are processed in the background',
            ),
            headers: replayedHeader,
          },
          400: problems(400, [
            [
              'validation_error',
              'The body is neither an event nor a batch of 1 to 500 events, or the single event sent is not valid (each bad field is listed in `errors`).',
            ],
          ]),
          401: common[401],
          429: common[429],
          404: problems(404, [
            [
              'account_not_found',
              'The single event sent names an account that does not exist in this tenant.',
            ],
          ]),
          409: problems(409, [keyInUse]),
          422: problems(422, [keyReused]),
          ...writes,
        },
      },
    },
    '/v1/events/{id}': {
      get: {
        tags: ['Usage'],
        operationId: 'getUsageEvent',
        summary: 'Get a usage event and what processing made of it',
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            description: 'The id the client gave the event.',
            schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$', example: 'req-7f3a9c' },
          },
        ],
        responses: {
          200: ok('UsageEvent', usageEventExample),
          401: common[401],
          429: common[429],
          404: problems(404, [['event_not_found', 'No usage event with this id in this tenant.']]),
        },
      },
    },
    '/v1/meters': {
      post: {
        tags: ['Usage'],
        operationId: 'createMeter',
        summary: 'Price an event type',
        description:
          'One meter per event type. From then on each processed event of that type is priced quantity × `unitPrice` ' +
          '(quantity: 1 for `count`; for `sum`, `property` written as a JSON integer ≥ 0 — a float such as 1.0, 2e0 ' +
          'or 1.5 fails the event `invalid_quantity`) and charged to its account.',
        parameters: [
          { $ref: '#/components/parameters/IdempotencyKeyOptional' },
          { $ref: '#/components/parameters/RequestId' },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/CreateMeter' },
              examples: {
                sum: {
                  value: {
                    eventType: 'api.call',
                    aggregation: 'sum',
                    property: 'tokens',
                    unitPrice: 2,
                    currency: 'USD',
                  },
                },
                count: {
                  value: { eventType: 'report.export', aggregation: 'count', unitPrice: 50, currency: 'USD' },
                },
              },
            },
          },
        },
        responses: {
          201: { ...ok('Meter', meterExample, 'Created'), headers: replayedHeader },
          ...common,
          409: problems(409, [['meter_exists', 'A meter for this event type already exists.'], keyInUse]),
          422: problems(422, [keyReused]),
          ...writes,
        },
      },
      get: {
        tags: ['Usage'],
        operationId: 'listMeters',
        summary: 'List meters, newest first',
        parameters: [{ $ref: '#/components/parameters/Limit' }, { $ref: '#/components/parameters/Cursor' }],
        responses: { 200: ok('MeterPage'), ...common },
      },
    },
    '/v1/usage': {
      get: {
        tags: ['Usage'],
        operationId: 'getUsage',
        summary: 'Usage totals by day or by meter',
        description:
          'Metered events whose `timestamp` falls in [from, to), by UTC day or by meter: events, quantity, the amount charged, and unbilled events. ' +
          "`amount` matches the ledger's usage charges (`charge` transactions) to the unit.",
        parameters: [
          {
            name: 'accountId',
            in: 'query',
            schema: ID('acc', ACC),
            description: 'Only this account (default: the whole tenant).',
          },
          {
            name: 'from',
            in: 'query',
            schema: date('ISO 8601 with a time zone offset; inclusive. Default: 30 days before `to`.'),
          },
          {
            name: 'to',
            in: 'query',
            schema: date(
              'ISO 8601 with a time zone offset; exclusive. Default: now. After `from`, and at most 366 days after it.',
            ),
          },
          {
            name: 'groupBy',
            in: 'query',
            schema: { type: 'string', enum: ['day', 'meter'], default: 'day' },
          },
        ],
        responses: {
          200: ok('UsageReport', {
            accountId: ACC,
            from: '2026-10-22T12:00:00.000Z',
            to: '2026-11-21T12:00:00.000Z',
            groupBy: 'day',
            data: [
              {
                day: '2026-11-21',
                currency: 'USD',
                events: 2,
                quantity: 1500,
                amount: 3000,
                unbilledEvents: 0,
              },
            ],
          }),
          400: problems(400, [
            [
              'validation_error',
              'A parameter is not valid, `from` is not before `to`, or the range spans more than 366 days.',
            ],
          ]),
          401: common[401],
          429: common[429],
          404: problems(404, [accountNotFound]),
        },
      },
    },
    '/v1/webhook-endpoints': {
      post: {
        tags: ['Webhooks'],
        operationId: 'createWebhookEndpoint',
        summary: 'Register a webhook endpoint',
        description:
          'The URL is checked before answering (see `webhook_url_refused`). The answer carries the signing `secret` (`whsec_…`): ' +
          'it is shown here and on rotation only, so keep it. From then on every event of the subscribed types is POSTed to the URL, signed with it.',
        parameters: [
          { $ref: '#/components/parameters/IdempotencyKeyOptional' },
          { $ref: '#/components/parameters/RequestId' },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/CreateWebhookEndpoint' },
              examples: {
                some: {
                  summary: 'Some event types',
                  value: {
                    url: 'https://example.com/hooks/tally',
                    eventTypes: ['transaction.succeeded', 'transaction.failed'],
                    description: 'Production receiver',
                  },
                },
                all: { summary: 'Every event type', value: { url: 'https://example.com/hooks/tally' } },
              },
            },
          },
        },
        responses: {
          201: {
            ...ok(
              'WebhookEndpointWithSecret',
              { ...endpointExample, secret: SECRET },
              'Created; `secret` is shown this once',
            ),
            headers: {
              Location: { schema: { type: 'string', example: `/v1/webhook-endpoints/${WHE}` } },
              ...replayedHeader,
            },
          },
          ...common,
          409: problems(409, [keyInUse]),
          422: urlRefused([keyReused]),
          ...writes,
        },
      },
      get: {
        tags: ['Webhooks'],
        operationId: 'listWebhookEndpoints',
        summary: 'List webhook endpoints, newest first',
        description: 'Enabled and disabled ones; deleted ones are gone. Secrets are never listed.',
        parameters: [{ $ref: '#/components/parameters/Limit' }, { $ref: '#/components/parameters/Cursor' }],
        responses: {
          200: ok('WebhookEndpointPage', { data: [endpointExample], nextCursor: null }),
          ...common,
        },
      },
    },
    '/v1/webhook-endpoints/{id}': {
      get: {
        tags: ['Webhooks'],
        operationId: 'getWebhookEndpoint',
        summary: 'Get a webhook endpoint',
        description: 'Without its secret.',
        parameters: [endpointId],
        responses: {
          200: ok('WebhookEndpoint', endpointExample),
          401: common[401],
          429: common[429],
          404: problems(404, [endpointNotFound]),
        },
      },
      patch: {
        tags: ['Webhooks'],
        operationId: 'updateWebhookEndpoint',
        summary: 'Change, disable or enable a webhook endpoint',
        description:
          'Only the fields sent change (`description: null` clears it). A new `url` is checked like at creation. ' +
          '`status: "disabled"` stops deliveries (pending ones wait; new events are not delivered to it) with `disabledReason` "disabled by the tenant"; ' +
          '`status: "enabled"` resumes them, clears `disabledReason` and the failure streak that counts towards automatic disabling.',
        parameters: [endpointId, { $ref: '#/components/parameters/RequestId' }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/UpdateWebhookEndpoint' },
              examples: {
                enable: { summary: 'Enable again after it was disabled', value: { status: 'enabled' } },
                change: {
                  summary: 'Move and subscribe to every event type',
                  value: { url: 'https://hooks.example.com/tally', eventTypes: [], description: null },
                },
              },
            },
          },
        },
        responses: {
          200: ok('WebhookEndpoint', endpointExample),
          ...common,
          404: problems(404, [endpointNotFound]),
          422: urlRefused(),
          ...writes,
        },
      },
      delete: {
        tags: ['Webhooks'],
        operationId: 'deleteWebhookEndpoint',
        summary: 'Delete a webhook endpoint',
        description:
          'Nothing more is delivered to it, including deliveries still pending; it is no longer listed or found.',
        parameters: [endpointId, { $ref: '#/components/parameters/RequestId' }],
        responses: {
          204: { description: 'Deleted' },
          401: common[401],
          429: common[429],
          404: problems(404, [endpointNotFound]),
        },
      },
    },
    '/v1/webhook-endpoints/{id}/rotate-secret': {
      post: {
        tags: ['Webhooks'],
        operationId: 'rotateWebhookSecret',
        summary: "Rotate a webhook endpoint's signing secret",
        description:
          'Answers the endpoint with a new `secret`, shown this once. For 24 hours the previous secret signs too: `webhook-signature` carries both ' +
          'signatures, separated by a space (`v1,<new> v1,<previous>`), so the receiver can switch secrets without missing a delivery. ' +
          'Send an `Idempotency-Key`: a rotation retried under it answers the same secret (a second rotation would end the overlap of the secret the receiver has).',
        parameters: [
          endpointId,
          { $ref: '#/components/parameters/IdempotencyKeyOptional' },
          { $ref: '#/components/parameters/RequestId' },
        ],
        requestBody: {
          required: false,
          description: 'No body needed; one sent is ignored.',
          content: { 'application/json': { schema: { type: 'object' }, example: {} } },
        },
        responses: {
          200: {
            ...ok('WebhookEndpointWithSecret', {
              ...endpointExample,
              secret: SECRET2,
              updatedAt: '2026-11-28T09:30:00.000Z',
            }),
            headers: replayedHeader,
          },
          401: common[401],
          429: common[429],
          404: problems(404, [endpointNotFound]),
          409: problems(409, [keyInUse]),
          422: problems(422, [keyReused]),
          ...writes,
        },
      },
    },
    '/v1/webhook-endpoints/{id}/deliveries': {
      get: {
        tags: ['Webhooks'],
        operationId: 'listWebhookDeliveries',
        summary: "List an endpoint's deliveries and their attempts, newest first",
        description:
          'One delivery per event sent to this endpoint, with every attempt: when, the status code (null when there was no answer), latency, ' +
          'the start of the response body, and the error.',
        parameters: [
          endpointId,
          { $ref: '#/components/parameters/Limit' },
          { $ref: '#/components/parameters/Cursor' },
        ],
        responses: {
          200: ok('WebhookDeliveryPage', { data: [deliveryExample], nextCursor: null }),
          ...common,
          404: problems(404, [endpointNotFound]),
        },
      },
    },
    '/v1/webhook-endpoints/{id}/deliveries/{deliveryId}/retry': {
      post: {
        tags: ['Webhooks'],
        operationId: 'retryWebhookDelivery',
        summary: 'Send a delivery again',
        description:
          'The delivery goes back to `pending`, due now, and starts the retry schedule afresh; the receiver sees the same `webhook-id`. ' +
          'Usually for a `failed` delivery; it is sent only while the endpoint is enabled.',
        parameters: [
          endpointId,
          { name: 'deliveryId', in: 'path', required: true, schema: ID('dlv', DLV) },
          { $ref: '#/components/parameters/IdempotencyKeyOptional' },
          { $ref: '#/components/parameters/RequestId' },
        ],
        requestBody: {
          required: false,
          description: 'No body needed; one sent is ignored.',
          content: { 'application/json': { schema: { type: 'object' }, example: {} } },
        },
        responses: {
          202: {
            description: 'Accepted; the delivery is sent again in the background',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id', 'status'],
                  properties: { id: ID('dlv', DLV), status: { const: 'pending' } },
                },
                example: { id: DLV, status: 'pending' },
              },
            },
            headers: replayedHeader,
          },
          401: common[401],
          429: common[429],
          404: problems(404, [endpointNotFound, deliveryNotFound]),
          409: problems(409, [keyInUse]),
          422: problems(422, [keyReused]),
          ...writes,
        },
      },
    },
    '/v1/webhook-endpoints/{id}/recover': {
      post: {
        tags: ['Webhooks'],
        operationId: 'recoverWebhookDeliveries',
        summary: 'Send again every delivery that failed since a time',
        description:
          'Every delivery to this endpoint created at or after `since` that ended `failed` goes back to `pending`, due now, with a fresh retry schedule ' +
          '(the same `webhook-id` each). For after an outage of the receiver, or once a disabled endpoint is enabled again.',
        parameters: [
          endpointId,
          { $ref: '#/components/parameters/IdempotencyKeyOptional' },
          { $ref: '#/components/parameters/RequestId' },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/RecoverWebhookDeliveries' },
              example: { since: '2026-11-20T00:00:00Z' },
            },
          },
        },
        responses: {
          202: {
            description: 'Accepted; the failed deliveries are sent again in the background',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['recovered'],
                  properties: {
                    recovered: {
                      type: 'integer',
                      minimum: 0,
                      description: 'How many deliveries will be sent again.',
                    },
                  },
                },
                example: { recovered: 12 },
              },
            },
            headers: replayedHeader,
          },
          ...common,
          404: problems(404, [endpointNotFound]),
          409: problems(409, [keyInUse]),
          422: problems(422, [keyReused]),
          ...writes,
        },
      },
    },
  },
  webhooks: {
    event: {
      post: {
        tags: ['Webhooks'],
        operationId: 'receiveWebhookEvent',
        summary: 'What Tally POSTs to a webhook endpoint',
        description:
          'One request per event and endpoint, signed per Standard Webhooks. Answer 2xx within 10 seconds; anything else is retried ' +
          '(5 s, 5 min, 30 min, 2 h, 5 h, 10 h, with jitter; Retry-After honoured). 410 disables the endpoint.',
        security: [],
        parameters: [
          {
            name: 'webhook-id',
            in: 'header',
            required: true,
            schema: ID('evt', EVT),
            description: 'The event id: the same on every retry. Deduplicate on it.',
          },
          {
            name: 'webhook-timestamp',
            in: 'header',
            required: true,
            schema: { type: 'string', pattern: '^[0-9]+$', example: '1795262400' },
            description: 'When this attempt was signed, in Unix seconds.',
          },
          {
            name: 'webhook-signature',
            in: 'header',
            required: true,
            schema: { type: 'string', example: 'v1,y7cyfPhPURM4BQ0OApZpd1i5fm4KlPRRmHuLuZMTXvs=' },
            description:
              '`v1,` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")), key being the secret base64-decoded without `whsec_`; ' +
              'during 24 hours after a rotation, one signature per live secret, separated by spaces. ' +
              "The example signs the example body (as compact JSON) with the example timestamp and createWebhookEndpoint's example secret.",
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/WebhookEvent' },
              example: webhookEventExample,
            },
          },
        },
        responses: {
          200: { description: 'Any 2xx: delivered.' },
          410: { description: 'Gone: the endpoint is disabled at once.' },
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
          code: {
            type: 'string',
            description:
              'Stable snake_case code: validation_error, unauthorized, account_not_found, transaction_not_found, hold_not_found, event_not_found, ' +
              'external_ref_taken, meter_exists, hold_not_active, currency_mismatch, account_frozen, transaction_not_refundable, refund_exceeds_remaining, ' +
              'capture_exceeds_hold, insufficient_funds, idempotency_key_required, idempotency_key_reused, idempotency_key_in_use, payload_too_large, unsupported_media_type, ' +
              'webhook_endpoint_not_found, webhook_delivery_not_found, webhook_url_refused, rate_limited, ' +
              'invalid_json (the body is not JSON, or nests objects or arrays more than 32 levels deep), ' +
              'invalid_input (a value the database cannot store, such as a NUL character), bad_url, uri_too_long (a path segment over 512 characters).',
          },
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
          type: {
            type: 'string',
            enum: transactionTypes,
            description:
              '`capture` is the settlement of a hold (POST /v1/holds/{id}/capture); POST /v1/transactions does not accept it.',
          },
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
      CreateHold: {
        type: 'object',
        additionalProperties: false,
        required: ['accountId', 'amount', 'currency'],
        properties: {
          accountId: ID('acc', ACC),
          amount: { ...amount, description: `${amount.description} Moved from available to held.` },
          currency: { ...currency, description: "The account's currency." },
          expiresInSeconds: {
            type: 'integer',
            minimum: 60,
            maximum: 2_592_000,
            default: 604_800,
            description: 'How long the hold lasts (1 minute to 30 days; default 7 days).',
          },
        },
      },
      CaptureHold: {
        type: 'object',
        additionalProperties: false,
        properties: {
          amount: {
            ...amount,
            description: `${amount.description} At most the hold's amount; default: the whole hold. The rest is released.`,
          },
        },
      },
      Hold: {
        type: 'object',
        required: Object.keys(holdExample),
        properties: {
          id: ID('hold', HOLD),
          accountId: ID('acc', ACC),
          amount: { type: 'integer' },
          currency,
          status: {
            type: 'string',
            enum: ['active', 'captured', 'voided', 'expired'],
            description: "`expired`: released by the worker's expiry sweep once `expiresAt` passed.",
          },
          expiresAt: { type: 'string', format: 'date-time' },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      UsageEventInput: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'type'],
        properties: {
          id: {
            type: 'string',
            pattern: '^[\\x21-\\x7e]{1,255}$',
            example: 'req-7f3a9c',
            description:
              'Your id for the event (1-255 visible ASCII), unique per tenant: a repeated id is a duplicate.',
          },
          type: eventType,
          accountId: {
            type: ['string', 'null'],
            example: ACC,
            description: 'The account the event is about; a metered event is charged to it.',
          },
          timestamp: date(
            'When it happened: ISO 8601 with a time zone offset, not in the future. Default: when received.',
          ),
          properties: usageProperties,
        },
      },
      UsageEventBatch: {
        type: 'object',
        additionalProperties: false,
        required: ['events'],
        properties: {
          events: {
            type: 'array',
            minItems: 1,
            maxItems: 500,
            items: { $ref: '#/components/schemas/UsageEventInput' },
            description:
              'Checked one by one: an event that is not valid is rejected at its index, the others go on.',
          },
        },
      },
      UsageIngestResult: {
        type: 'object',
        required: ['accepted', 'duplicates', 'rejected'],
        properties: {
          accepted: { type: 'integer', description: 'New events stored, to be processed.' },
          duplicates: {
            type: 'integer',
            description:
              'Events whose id was already sent (before, or earlier in this batch): not processed again.',
          },
          rejected: {
            type: 'array',
            items: {
              type: 'object',
              required: ['index', 'code', 'message'],
              properties: {
                index: { type: 'integer', description: 'Position in `events`.' },
                code: { type: 'string', enum: ['validation_error', 'account_not_found'] },
                message: { type: 'string' },
              },
            },
          },
        },
      },
      UsageEvent: {
        type: 'object',
        required: Object.keys(usageEventExample),
        properties: {
          id: { type: 'string', example: 'req-7f3a9c' },
          type: eventType,
          accountId: { type: ['string', 'null'] },
          timestamp: { type: 'string', format: 'date-time' },
          properties: usageProperties,
          status: {
            type: 'string',
            enum: ['received', 'processed', 'failed'],
            description:
              '`received`: stored, not yet processed. `failed`: broke a business rule (see `failure`); never retried.',
          },
          receivedAt: { type: 'string', format: 'date-time' },
          processedAt: { type: ['string', 'null'], format: 'date-time' },
          category: {
            type: ['string', 'null'],
            enum: ['high_value', 'standard', null],
            description:
              '`high_value` when its `amount` property (else its price) reaches the high-value threshold; null until processed.',
          },
          billing: {
            oneOf: [
              { type: 'null' },
              {
                type: 'object',
                required: ['status', 'meterId', 'quantity', 'amount', 'currency', 'transactionId', 'failure'],
                properties: {
                  status: { type: 'string', enum: ['charged', 'unbilled'] },
                  meterId: ID('mtr', MTR),
                  quantity: { type: 'integer' },
                  amount: { type: 'integer', description: 'quantity × unitPrice, in minor units.' },
                  currency,
                  transactionId: {
                    type: ['string', 'null'],
                    description: 'The `charge` transaction; null when unbilled.',
                  },
                  failure: nullableFailure(
                    ['insufficient_funds', 'currency_mismatch', 'account_frozen', 'account_not_found'],
                    'Why the event went unbilled.',
                  ),
                },
              },
            ],
            description: 'Null unless a meter priced the event.',
          },
          failure: nullableFailure(
            ['invalid_purchase', 'invalid_quantity', 'account_required', 'amount_too_large'],
            'Why processing refused the event (status `failed`).',
          ),
        },
      },
      CreateMeter: {
        oneOf: [
          {
            type: 'object',
            additionalProperties: false,
            required: ['eventType', 'aggregation', 'unitPrice', 'currency'],
            properties: {
              eventType,
              aggregation: { const: 'count', description: 'Each event is a quantity of 1.' },
              property: { type: 'null', description: 'A count meter takes no property.' },
              unitPrice: { ...amount, description: 'Minor units per unit of quantity.' },
              currency,
            },
          },
          {
            type: 'object',
            additionalProperties: false,
            required: ['eventType', 'aggregation', 'property', 'unitPrice', 'currency'],
            properties: {
              eventType,
              aggregation: { const: 'sum', description: "The quantity is the event's `property`." },
              property: {
                type: 'string',
                pattern: '^[A-Za-z0-9_.:-]{1,64}$',
                example: 'tokens',
                description: 'The property summed: a non-negative integer in each event.',
              },
              unitPrice: { ...amount, description: 'Minor units per unit of quantity.' },
              currency,
            },
          },
        ],
        discriminator: { propertyName: 'aggregation' },
      },
      Meter: {
        type: 'object',
        required: Object.keys(meterExample),
        properties: {
          id: ID('mtr', MTR),
          eventType,
          aggregation: { type: 'string', enum: ['count', 'sum'] },
          property: { type: ['string', 'null'] },
          unitPrice: { type: 'integer' },
          currency,
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      UsageReport: {
        type: 'object',
        required: ['accountId', 'from', 'to', 'groupBy', 'data'],
        properties: {
          accountId: { type: ['string', 'null'] },
          from: { type: 'string', format: 'date-time' },
          to: { type: 'string', format: 'date-time' },
          groupBy: { type: 'string', enum: ['day', 'meter'] },
          data: {
            type: 'array',
            items: {
              oneOf: [
                {
                  type: 'object',
                  title: 'By day',
                  required: ['day', ...usageTotalKeys],
                  properties: {
                    day: { type: 'string', format: 'date', example: '2026-11-21', description: 'UTC day.' },
                    ...usageTotals,
                  },
                },
                {
                  type: 'object',
                  title: 'By meter',
                  required: ['meterId', 'eventType', ...usageTotalKeys],
                  properties: { meterId: ID('mtr', MTR), eventType, ...usageTotals },
                },
              ],
            },
          },
        },
      },
      CreateWebhookEndpoint: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: webhookUrl,
          eventTypes: webhookEventTypesField,
          description: webhookDescription,
        },
      },
      UpdateWebhookEndpoint: {
        type: 'object',
        additionalProperties: false,
        description: 'Only the fields sent change.',
        properties: {
          url: webhookUrl,
          eventTypes: {
            ...webhookEventTypesField,
            description: 'The event types to deliver; empty means all of them.',
          },
          description: { ...webhookDescription, description: 'null clears it.' },
          status: {
            type: 'string',
            enum: ['enabled', 'disabled'],
            description: '`enabled` resumes deliveries and clears `disabledReason`; `disabled` stops them.',
          },
        },
      },
      WebhookEndpoint: {
        type: 'object',
        required: Object.keys(endpointExample),
        properties: {
          id: ID('whe', WHE),
          url: { type: 'string', example: 'https://example.com/hooks/tally' },
          description: { type: ['string', 'null'] },
          eventTypes: {
            type: 'array',
            items: { type: 'string', enum: webhookEventTypes },
            description: 'Empty: every event type.',
          },
          status: {
            type: 'string',
            enum: ['enabled', 'disabled'],
            description: 'Only an `enabled` endpoint receives events.',
          },
          disabledReason: {
            type: ['string', 'null'],
            example: 'the receiver answered 410 Gone',
            description:
              'Why it is disabled: by the tenant, the receiver answered 410 Gone, or failing without a success for 5 days. Null while enabled.',
          },
          createdAt: { type: 'string', format: 'date-time' },
          updatedAt: { type: 'string', format: 'date-time' },
        },
      },
      WebhookEndpointWithSecret: {
        allOf: [
          { $ref: '#/components/schemas/WebhookEndpoint' },
          {
            type: 'object',
            required: ['secret'],
            properties: {
              secret: {
                type: 'string',
                pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$',
                example: SECRET,
                description:
                  'The signing secret: `whsec_` + base64 of the HMAC key. Shown only when the endpoint is created and when its secret is rotated.',
              },
            },
          },
        ],
      },
      WebhookAttempt: {
        type: 'object',
        required: ['attempt', 'attemptedAt', 'statusCode', 'latencyMs', 'responseSnippet', 'error'],
        properties: {
          attempt: {
            type: 'integer',
            minimum: 1,
            description: 'Counts from 1; restarts when the delivery is sent again.',
          },
          attemptedAt: { type: 'string', format: 'date-time' },
          statusCode: {
            type: ['integer', 'null'],
            description: 'The HTTP status answered; null when there was no answer.',
          },
          latencyMs: { type: 'integer' },
          responseSnippet: { type: ['string', 'null'], description: 'The first 1 KiB of the response body.' },
          error: {
            type: ['string', 'null'],
            example: 'HTTP 503',
            description:
              'Why the attempt failed (`HTTP <status>`, a timeout, a connection error, a refused address); null on success.',
          },
        },
      },
      WebhookDelivery: {
        type: 'object',
        required: Object.keys(deliveryExample),
        properties: {
          id: ID('dlv', DLV),
          eventId: { ...ID('evt', EVT), description: 'The event delivered; also its `webhook-id`.' },
          eventType: { type: 'string', enum: webhookEventTypes },
          status: {
            type: 'string',
            enum: ['pending', 'succeeded', 'failed'],
            description:
              '`pending`: not yet delivered, being retried. `failed`: every attempt of the schedule failed (or the receiver answered 410).',
          },
          attempts: { type: 'array', items: { $ref: '#/components/schemas/WebhookAttempt' } },
          nextAttemptAt: {
            type: ['string', 'null'],
            format: 'date-time',
            description: 'When it is tried next, while `pending`.',
          },
          createdAt: { type: 'string', format: 'date-time' },
          completedAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
      RecoverWebhookDeliveries: {
        type: 'object',
        additionalProperties: false,
        required: ['since'],
        properties: {
          since: date(
            'ISO 8601 with a time zone offset: deliveries created at or after it that failed are sent again.',
          ),
        },
      },
      WebhookEvent: {
        type: 'object',
        required: ['id', 'type', 'createdAt', 'data'],
        description: 'The body of a webhook delivery.',
        properties: {
          id: { ...ID('evt', EVT), description: 'The event id; the same as the `webhook-id` header.' },
          type: { type: 'string', enum: webhookEventTypes },
          createdAt: { type: 'string', format: 'date-time' },
          data: {
            type: 'object',
            description:
              'transaction.*: the Transaction. hold.*: the Hold. account.balance_low: `{ accountId, currency, available, threshold }`. ' +
              'usage.charged / usage.charge_failed: the usage event and its price, with `transactionId` or `failure`.',
          },
        },
      },
      WebhookEndpointPage: page('WebhookEndpoint'),
      WebhookDeliveryPage: page('WebhookDelivery'),
      AccountPage: page('Account'),
      EntryPage: page('Entry'),
      TransactionPage: page('Transaction'),
      MeterPage: page('Meter'),
    },
  },
};
