import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { MAX_AMOUNT, TRANSACTION_STATUSES, TRANSACTION_TYPES } from '#domain';
import { OutboxSignal, TransactionRepository, transactionView } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { AdminError, notFound, validate } from '../http/admin-error.js';
import { Adjustments } from './adjustments.js';
import { Reruns } from './reruns.js';

const amount = z
  .union([z.number().int().positive(), z.string().regex(/^[1-9]\d{0,18}$/)])
  .transform((v) => BigInt(v))
  .refine((v) => v <= MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`);
const reason = z.object({ reason: z.string().trim().min(3).max(1000) }).strict();
const adjust = z
  .object({ direction: z.enum(['credit', 'debit']), amount, reason: z.string().trim().min(3).max(1000) })
  .strict();
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const search = z
  .object({
    id: z.string().max(64).optional(),
    tenantId: z.string().max(64).optional(),
    accountId: z.string().max(64).optional(),
    status: z.enum(TRANSACTION_STATUSES).optional(),
    type: z.enum(TRANSACTION_TYPES).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    before: z.string().max(64).optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/)
      .transform(Number)
      .pipe(z.number().min(1).max(500))
      .optional(),
  })
  .strict();

/**
 * Operators' view of the ledger and their interventions: search and inspect transactions, re-run a
 * failed one (once), freeze and unfreeze accounts, adjust balances (through the worker; beyond an
 * operator's rolling allowance only with a second operator's approval). Every change is audited in
 * its own transaction.
 */
@Controller('admin/api')
@UseGuards(RolesGuard)
export class LedgerController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(Adjustments) private readonly adjustments: Adjustments,
    @Inject(Reruns) private readonly reruns: Reruns,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
  ) {}

  @Get('transactions')
  @Needs('viewer')
  async search(@Query() query: unknown) {
    const q = validate(search, query);
    const limit = q.limit ?? 50;
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id, tenant_id AS "tenantId", type, status, amount::text, currency, source_account_id AS "sourceAccountId",
              destination_account_id AS "destinationAccountId", failure_code AS "failureCode", correlation_id AS "correlationId",
              created_at AS "createdAt", completed_at AS "completedAt"
         FROM transactions
        WHERE ($1::text IS NULL OR id = $1) AND ($2::text IS NULL OR tenant_id = $2)
          AND ($3::text IS NULL OR source_account_id = $3 OR destination_account_id = $3)
          AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR type = $5)
          AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::timestamptz IS NULL OR created_at < $7)
          AND ($8::text IS NULL OR id < $8)
        ORDER BY id DESC LIMIT $9`,
      [
        q.id ?? null,
        q.tenantId ?? null,
        q.accountId ?? null,
        q.status ?? null,
        q.type ?? null,
        q.from ?? null,
        q.to ?? null,
        q.before ?? null,
        limit + 1,
      ],
    );
    const data = rows.slice(0, limit);
    return { data, nextBefore: rows.length > limit ? data[data.length - 1].id : null };
  }

  /** One transaction with its timeline, ledger entries, messages and correlation id. */
  @Get('transactions/:id')
  @Needs('viewer')
  async detail(@Param('id') id: string) {
    const [t] = await this.dataSource.query(`SELECT tenant_id FROM transactions WHERE id = $1`, [id]);
    if (!t) throw notFound(`Transaction ${id}`);
    const record = (await this.transactions.find(this.dataSource.manager, t.tenant_id, id))!;
    const [entries, messages, deadLetters, [times]] = await Promise.all([
      this.dataSource.query(
        `SELECT id, account_id AS "accountId", amount::text, balance_after::text AS "balanceAfter", created_at AS "createdAt"
           FROM ledger_entries WHERE transaction_id = $1 ORDER BY seq`,
        [id],
      ),
      this.dataSource.query(
        `SELECT message_id AS "messageId", routing_key AS "type", created_at AS "createdAt", published_at AS "publishedAt",
                publish_attempts AS "publishAttempts"
           FROM outbox WHERE payload->>'transactionId' = $1 OR payload->'data'->>'id' = $1 ORDER BY id`,
        [id],
      ),
      this.dataSource.query(
        `SELECT id, status, error, error_code AS "errorCode", failed_at AS "failedAt" FROM dead_letters
          WHERE payload LIKE '%' || $1 || '%' ORDER BY id`,
        [id],
      ),
      this.dataSource.query(`SELECT updated_at AS "updatedAt" FROM transactions WHERE id = $1`, [id]),
    ]);
    const timeline = [
      { at: record.createdAt, what: 'accepted (pending)' },
      ...messages.flatMap((m: { type: string; publishedAt: Date | null }) =>
        m.publishedAt ? [{ at: m.publishedAt, what: `${m.type} published` }] : [],
      ),
      ...(record.completedAt ? [{ at: record.completedAt, what: record.status }] : []),
    ].sort((a, b) => new Date(a.at).getTime() - new Date(b.at).getTime());
    return {
      ...transactionView(record),
      tenantId: record.tenantId,
      correlationId: record.correlationId,
      updatedAt: times.updatedAt,
      timeline,
      entries,
      messages,
      deadLetters,
    };
  }

  /**
   * A failed transaction stays failed: a re-run is a new transaction with the same intent, once per
   * transaction (409 `already_rerun` afterwards). An adjustment's re-run is a new adjustment
   * request and answers as one (`{ id, status, transactionId }`), approval rules included.
   */
  @Post('transactions/:id/rerun')
  @Needs('operator')
  @HttpCode(202)
  async rerun(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    const why = validate(reason, body ?? {}).reason;
    const answer = await this.dataSource.transaction((m) => this.reruns.rerun(m, operator, id, why));
    if (answer.kind === 'transaction') {
      this.outboxSignal.committed();
      return answer.transaction;
    }
    const { replayed: _, ...adjustment } = answer.adjustment;
    if (adjustment.transactionId) this.outboxSignal.committed();
    return adjustment;
  }

  @Get('accounts')
  @Needs('viewer')
  async accounts(@Query() query: unknown) {
    const q = validate(
      z.object({ tenantId: z.string().max(64).optional(), id: z.string().max(64).optional() }).strict(),
      query,
    );
    const rows = await this.dataSource.query(
      `SELECT id, tenant_id AS "tenantId", currency, external_ref AS "externalRef", status, posted::text,
              held::text, (posted - held)::text AS available, created_at AS "createdAt"
         FROM accounts WHERE kind = 'customer' AND ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR id = $2)
        ORDER BY id DESC LIMIT 200`,
      [q.tenantId ?? null, q.id ?? null],
    );
    return { data: rows };
  }

  /** One account with its latest ledger entries. */
  @Get('accounts/:id')
  @Needs('viewer')
  async account(@Param('id') id: string) {
    const [account] = await this.dataSource.query(
      `SELECT id, tenant_id AS "tenantId", currency, external_ref AS "externalRef", status, posted::text,
              held::text, (posted - held)::text AS available, low_balance_threshold::text AS "lowBalanceThreshold",
              created_at AS "createdAt"
         FROM accounts WHERE id = $1 AND kind = 'customer'`,
      [id],
    );
    if (!account) throw notFound(`Account ${id}`);
    const entries = await this.dataSource.query(
      `SELECT e.id, e.transaction_id AS "transactionId", t.type, e.amount::text, e.balance_after::text AS "balanceAfter",
              e.created_at AS "createdAt"
         FROM ledger_entries e JOIN transactions t ON t.id = e.transaction_id
        WHERE e.account_id = $1 ORDER BY e.seq DESC LIMIT 100`,
      [id],
    );
    return { ...account, entries };
  }

  @Post('accounts/:id/freeze')
  @Needs('operator')
  @HttpCode(200)
  async freeze(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    return this.setAccountStatus(operator, id, 'frozen', validate(reason, body ?? {}).reason);
  }

  @Post('accounts/:id/unfreeze')
  @Needs('operator')
  @HttpCode(200)
  async unfreeze(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    return this.setAccountStatus(operator, id, 'active', validate(reason, body ?? {}).reason);
  }

  /**
   * Adjusts a balance through the ledger; beyond the operator's rolling allowance it waits for a
   * second operator. Idempotent per operator: the same Idempotency-Key and body answer the first
   * answer again (Idempotent-Replayed: true); the key with another body is 422.
   */
  @Post('accounts/:id/adjustments')
  @Needs('operator')
  @HttpCode(202)
  async adjust(
    @CurrentOperator() operator: Operator,
    @Param('id') id: string,
    @Headers('idempotency-key') key: unknown,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const input = validate(adjust, body ?? {});
    const idempotencyKey = validateKey(key);
    const { replayed, ...answer } = await this.dataSource.transaction((m) =>
      this.adjustments.request(m, operator, { accountId: id, ...input, idempotencyKey }),
    );
    if (replayed) void reply.header('idempotent-replayed', 'true');
    else if (answer.transactionId) this.outboxSignal.committed();
    return answer;
  }

  @Get('adjustments')
  @Needs('viewer')
  async listAdjustments(@Query() query: unknown) {
    const q = validate(
      z.object({ status: z.enum(['pending', 'executed', 'rejected']).optional() }).strict(),
      query,
    );
    const rows = await this.dataSource.query(
      `SELECT id, tenant_id AS "tenantId", account_id AS "accountId", direction, amount::text, currency, reason, status,
              requested_by AS "requestedBy", decided_by AS "decidedBy", transaction_id AS "transactionId",
              approval_required AS "approvalRequired", rerun_of AS "rerunOf",
              created_at AS "createdAt", decided_at AS "decidedAt"
         FROM adjustment_requests WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at DESC LIMIT 200`,
      [q.status ?? null],
    );
    return { data: rows };
  }

  @Post('adjustments/:id/approve')
  @Needs('operator')
  @HttpCode(202)
  async approve(@CurrentOperator() operator: Operator, @Param('id') id: string) {
    const result = await this.dataSource.transaction((m) => this.adjustments.approve(m, operator, id));
    this.outboxSignal.committed();
    return result;
  }

  @Post('adjustments/:id/reject')
  @Needs('operator')
  @HttpCode(200)
  async reject(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    const why = validate(reason, body ?? {}).reason;
    return this.dataSource.transaction((m) => this.adjustments.reject(m, operator, id, why));
  }

  private async setAccountStatus(operator: Operator, id: string, status: 'active' | 'frozen', why: string) {
    return this.dataSource.transaction(async (m) => {
      const [rows]: [{ id: string }[], number] = await m.query(
        `UPDATE accounts SET status = $2, updated_at = now() WHERE id = $1 AND kind = 'customer' RETURNING id`,
        [id, status],
      );
      if (rows.length === 0) throw notFound(`Account ${id}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: status === 'frozen' ? 'account.freeze' : 'account.unfreeze',
        targetType: 'account',
        targetId: id,
        reason: why,
      });
      return { id, status };
    });
  }
}

/** The Idempotency-Key header: required on an adjustment (a retried request must not adjust twice). */
function validateKey(key: unknown): string {
  if (key === undefined) {
    throw new AdminError(400, 'idempotency_key_required', 'An adjustment needs an Idempotency-Key header.');
  }
  if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
    throw new AdminError(400, 'validation_error', 'The request is not valid.', [
      { field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' },
    ]);
  }
  return key;
}
