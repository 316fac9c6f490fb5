import {
  Body,
  Controller,
  Get,
  Headers,
  Inject,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiBody, ApiExtraModels, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Answer, IdempotencyKeyHeader, PreferHeader, REPLAYED, location } from '../docs/operations.js';
import { ApiProblems, BODY_PROBLEMS, KEY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { DataSource } from 'typeorm';
import { TransactionNotFoundError, hasIdPrefix, transactionView } from '#domain';
import { Correlation } from '#observability';
import { TransactionRepository } from '#persistence';
import { ApiKeyGuard, type Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { stringifyJson } from '../http/json.js';
import { sendOutcome } from '../http/outcome.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { ApiError } from '#http';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { CreateTransaction } from './create-transaction/create-transaction.use-case.js';
import { TransactionCompletion } from './transaction-completion.js';
import {
  ListTransactionsQuery,
  TRANSACTION_BODIES,
  TRANSACTION_BODY_EXAMPLES,
  TRANSACTION_BODY_SCHEMA,
  TRANSACTION_EXAMPLE,
  TRANSACTION_ID,
  TransactionPage,
  TransactionParams,
  TransactionView,
  transactionCommandOf,
} from './transactions.dto.js';

const isTransactionId = (id: string) => hasIdPrefix(id, 'txn');
const MAX_WAIT_SECONDS = 30;

/** `Prefer: wait=N` (RFC 7240), capped at 30 s; 0 when absent or malformed. */
export function preferredWaitSeconds(prefer: string | undefined): number {
  const match = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i.exec(prefer ?? '');
  return match ? Math.min(Number(match[1]), MAX_WAIT_SECONDS) : 0;
}

@ApiTags('Transactions')
@Controller('v1/transactions')
@UseGuards(ApiKeyGuard)
export class TransactionsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
    @Inject(CreateTransaction) private readonly createTransaction: CreateTransaction,
    @Inject(TransactionCompletion) private readonly completion: TransactionCompletion,
  ) {}

  @Post()
  @ApiOperation({
    operationId: 'createTransaction',
    summary: 'Request a deposit, withdrawal, transfer, charge or refund',
    description:
      'Checked before answering: body shape, accounts exist in this tenant, currencies match, frozen accounts, refundable parent. ' +
      'Funds are checked when the transaction is applied: it then ends `failed` with `failure.code = "insufficient_funds"`. ' +
      'A `capture` is not requested here: capture a hold (POST /v1/holds/{id}/capture).',
  })
  @IdempotencyKeyHeader(true)
  @PreferHeader()
  @ApiExtraModels(...Object.values(TRANSACTION_BODIES))
  @ApiBody({ schema: TRANSACTION_BODY_SCHEMA, examples: TRANSACTION_BODY_EXAMPLES })
  @Answer(200, TransactionView, 'Final (with Prefer: wait)', {
    example: { ...TRANSACTION_EXAMPLE, status: 'succeeded', completedAt: '2026-11-21T12:00:00.040Z' },
    headers: {
      ...location(`/v1/transactions/${TRANSACTION_ID}`),
      'Idempotent-Replayed': {
        description: 'Whether this answers a replay.',
        schema: { type: 'string', enum: ['true', 'false'] },
      },
      'Preference-Applied': {
        description: 'The wait applied.',
        schema: { type: 'string', example: 'wait=5' },
      },
    },
  })
  @Answer(202, TransactionView, 'Accepted; applied in the background', {
    example: TRANSACTION_EXAMPLE,
    headers: {
      ...location(`/v1/transactions/${TRANSACTION_ID}`),
      ...REPLAYED,
      'Preference-Applied': {
        description: 'The wait applied (the transaction was not final within it).',
        schema: { type: 'string', example: 'wait=5' },
      },
    },
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    'idempotency_key_required',
    'account_not_found',
    'transaction_not_found',
    'currency_mismatch',
    'account_frozen',
    'transaction_not_refundable',
    'refund_exceeds_remaining',
    ...KEY_PROBLEMS,
  )
  async create(
    @CurrentTenant() tenant: Tenant,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    if (key === undefined) {
      throw new ApiError(
        400,
        'idempotency_key_required',
        'POST /v1/transactions needs an Idempotency-Key header.',
      );
    }
    const command = transactionCommandOf(body);
    const call = { tenantId: tenant.tenantId, key, required: true, method: 'POST', path: request.url, body };
    const correlationId = Correlation.id() ?? null;
    const outcome =
      command.type === 'refund'
        ? await this.idempotency.execute(call, async (manager) => {
            const t = await this.createTransaction.execute(manager, tenant.tenantId, command, correlationId);
            return {
              status: 202,
              body: transactionView(t),
              headers: { Location: `/v1/transactions/${t.id}` },
            };
          })
        : await this.idempotency.executeInOneStatement({ ...call, key }, (record) =>
            this.createTransaction.acceptInOneStatement(record, command, correlationId),
          );

    const waitSeconds = preferredWaitSeconds(prefer);
    if (outcome.status !== 202 || waitSeconds === 0) return sendOutcome(reply, outcome);
    const id = outcome.headers.Location.split('/').pop()!;
    const final = (await this.completion.wait(id, waitSeconds * 1000))
      ? await this.transactions.find(this.dataSource.manager, tenant.tenantId, id)
      : null;
    if (!final) return sendOutcome(reply, outcome, { 'Preference-Applied': `wait=${waitSeconds}` });
    void reply
      .code(200)
      .headers({
        ...outcome.headers,
        'Content-Type': 'application/json',
        'Preference-Applied': `wait=${waitSeconds}`,
      })
      .header('Idempotent-Replayed', outcome.replayed ? 'true' : 'false')
      .send(stringifyJson(transactionView(final)));
  }

  @Get()
  @ApiOperation({ operationId: 'listTransactions', summary: 'List transactions, newest first' })
  @Answer(200, TransactionPage, 'A page of transactions', {
    example: { data: [TRANSACTION_EXAMPLE], nextCursor: null },
  })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@CurrentTenant() tenant: Tenant, @Query() q: ListTransactionsQuery) {
    const limit = q.limit ?? 20;
    const rows = await this.transactions.list(this.dataSource.manager, tenant.tenantId, {
      accountId: q.accountId,
      status: q.status,
      type: q.type,
      before: decodeCursor(q.cursor, isTransactionId),
      limit: limit + 1,
    });
    return pageOf(rows, limit, (t) => t.id, transactionView);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getTransaction', summary: 'Get a transaction' })
  @Answer(200, TransactionView, 'The transaction', { example: TRANSACTION_EXAMPLE })
  @ApiProblems(...PATH_PROBLEMS, 'transaction_not_found')
  async get(@CurrentTenant() tenant: Tenant, @Param() { id }: TransactionParams) {
    const t = isTransactionId(id)
      ? await this.transactions.find(this.dataSource.manager, tenant.tenantId, id)
      : null;
    if (!t) throw new TransactionNotFoundError(id);
    return transactionView(t);
  }
}
