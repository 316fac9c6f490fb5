import { Body, Controller, Get, Headers, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Answer, PreferHeader, REPLAYED, location } from '../docs/operations.js';
import { ApiProblems, BODY_PROBLEMS, KEY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { DataSource } from 'typeorm';
import { TransactionNotFoundError, hasIdPrefix, transactionView } from '#domain';
import { Correlation } from '#observability';
import { TransactionRepository } from '#persistence';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { stringifyJson } from '../http/json.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import type { Outcome } from '../idempotency/idempotency.service.js';
import {
  Idempotent,
  idempotentOneStatement,
  idempotentWrite,
  type IdempotentWrite,
} from '../idempotency/idempotent.js';
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
export class TransactionsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
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
  @Idempotent({ required: true })
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
  create(
    @CurrentTenant() tenant: Tenant,
    @Body() body: unknown,
    @Headers('prefer') prefer: string | undefined,
  ): IdempotentWrite {
    const command = transactionCommandOf(body);
    const correlationId = Correlation.id() ?? null;
    const waitSeconds = preferredWaitSeconds(prefer);
    const finish = (outcome: Outcome) => this.waitedFor(tenant, outcome, waitSeconds);
    return command.type === 'refund'
      ? idempotentWrite(async (manager) => {
          const t = await this.createTransaction.execute(manager, tenant.tenantId, command, correlationId);
          return {
            status: 202,
            body: transactionView(t),
            headers: { Location: `/v1/transactions/${t.id}` },
          };
        }, finish)
      : idempotentOneStatement(
          (record) => this.createTransaction.acceptInOneStatement(record, command, correlationId),
          finish,
        );
  }

  /** With `Prefer: wait=N`, an accepted transaction's answer is its final state if it is final within N s. */
  private async waitedFor(tenant: Tenant, outcome: Outcome, waitSeconds: number): Promise<Outcome> {
    if (outcome.status !== 202 || waitSeconds === 0) return outcome;
    const applied = { 'Preference-Applied': `wait=${waitSeconds}` };
    const id = outcome.headers.Location.split('/').pop()!;
    const final = (await this.completion.wait(id, waitSeconds * 1000))
      ? await this.transactions.find(this.dataSource.manager, tenant.tenantId, id)
      : null;
    if (!final) return { ...outcome, headers: { ...outcome.headers, ...applied } };
    return {
      status: 200,
      text: stringifyJson(transactionView(final)),
      contentType: 'application/json',
      headers: { ...outcome.headers, ...applied, 'Idempotent-Replayed': outcome.replayed ? 'true' : 'false' },
      replayed: outcome.replayed,
    };
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
