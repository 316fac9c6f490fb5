import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { MAX_AMOUNT, MessageTypes, TRANSACTION_STATUSES, TRANSACTION_TYPES, newId } from '#domain';
import { Exchanges } from '#messaging';
import { OutboxSignal, TransactionRepository, transactionView } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { AdminError, notFound, validate } from '../http/admin-error.js';
import { Adjustments, type AdjustmentRequest } from './adjustments.js';

const amount = z
  .union([z.number().int().positive(), z.string().regex(/^[1-9]\d{0,18}$/)])
  .transform((v) => BigInt(v))
  .refine((v) => v <= MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`);
const reason = z.object({ reason: z.string().trim().min(3).max(1000) }).strict();
const adjust = z
  .object({ direction: z.enum(['credit', 'debit']), amount, reason: z.string().trim().min(3).max(1000) })
  .strict();
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

export interface LedgerOptions {
  /** Adjustments above this (minor units) need a second operator's approval. */
  approvalThreshold: bigint;
}

/**
 * Operators' view of the ledger and their interventions: search and inspect transactions, re-run a
 * failed one, freeze and unfreeze accounts, adjust balances (through the worker; large ones only
 * with a second operator's approval). Every change is audited in its own transaction.
 */
@Controller('admin/api')
@UseGuards(RolesGuard)
export class LedgerController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(Adjustments) private readonly adjustments: Adjustments,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject('LEDGER_OPTIONS') private readonly options: LedgerOptions,
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

  /** A failed transaction stays failed: a re-run is a new transaction with the same intent. */
  @Post('transactions/:id/rerun')
  @Needs('operator')
  @HttpCode(202)
  async rerun(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    const why = validate(reason, body ?? {}).reason;
    const [row] = await this.dataSource.query(`SELECT tenant_id FROM transactions WHERE id = $1`, [id]);
    if (!row) throw notFound(`Transaction ${id}`);
    const failed = (await this.transactions.find(this.dataSource.manager, row.tenant_id, id))!;
    if (failed.status !== 'failed') {
      throw new AdminError(
        409,
        'transaction_not_failed',
        `Only a failed transaction can be re-run; this one is ${failed.status}.`,
      );
    }
    if (failed.type === 'capture') {
      throw new AdminError(409, 'not_rerunnable', 'A capture is re-run by capturing its hold again.');
    }
    const rerun = await this.dataSource.transaction(async (m) => {
      const newIdValue = newId('txn');
      const t = await this.transactions.insert(
        m,
        {
          ...failed,
          id: newIdValue,
          status: 'pending',
          metadata: { ...failed.metadata, rerunOf: failed.id },
          correlationId: failed.correlationId,
        },
        [
          {
            exchange: Exchanges.commands,
            routingKey: MessageTypes.transactionRequested,
            payload: { transactionId: newIdValue, tenantId: failed.tenantId },
            correlationId: failed.correlationId,
          },
        ],
      );
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'transaction.rerun',
        targetType: 'transaction',
        targetId: failed.id,
        reason: why,
        details: { newTransactionId: t.id },
      });
      return t;
    });
    this.outboxSignal.committed();
    return transactionView(rerun);
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

  /** Adjusts a balance through the ledger; above the threshold it waits for a second operator. */
  @Post('accounts/:id/adjustments')
  @Needs('operator')
  @HttpCode(202)
  async adjust(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    const input = validate(adjust, body ?? {});
    const result = await this.dataSource.transaction(async (m) => {
      const [account] = await m.query(
        `SELECT id, tenant_id, currency FROM accounts WHERE id = $1 AND kind = 'customer'`,
        [id],
      );
      if (!account) throw notFound(`Account ${id}`);
      const [request]: AdjustmentRequest[] = await m.query(
        `INSERT INTO adjustment_requests (id, tenant_id, account_id, direction, amount, currency, reason, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
        [
          newId('adj'),
          account.tenant_id,
          id,
          input.direction,
          input.amount.toString(),
          account.currency,
          input.reason,
          operator.id,
        ],
      );
      const needsApproval = input.amount > this.options.approvalThreshold;
      const t = needsApproval ? null : await this.adjustments.execute(m, request, null);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: needsApproval ? 'adjustment.request' : 'adjustment.execute',
        targetType: 'account',
        targetId: id,
        reason: input.reason,
        details: {
          adjustmentId: request.id,
          direction: input.direction,
          amount: input.amount.toString(),
          transactionId: t?.id ?? null,
        },
      });
      return {
        id: request.id,
        status: needsApproval ? 'pending_approval' : 'executed',
        transactionId: t?.id ?? null,
      };
    });
    if (result.transactionId) this.outboxSignal.committed();
    return result;
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
    const result = await this.dataSource.transaction(async (m) => {
      const request = await this.pending(m, id);
      if (request.requested_by === operator.id) {
        throw new AdminError(
          403,
          'second_approval_required',
          'A second operator must approve this adjustment.',
        );
      }
      const t = await this.adjustments.execute(m, request, operator.id);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'adjustment.approve',
        targetType: 'account',
        targetId: request.account_id,
        reason: request.reason,
        details: { adjustmentId: id, transactionId: t.id, requestedBy: request.requested_by },
      });
      return { id, status: 'executed', transactionId: t.id };
    });
    this.outboxSignal.committed();
    return result;
  }

  @Post('adjustments/:id/reject')
  @Needs('operator')
  @HttpCode(200)
  async reject(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    const why = validate(reason, body ?? {}).reason;
    return this.dataSource.transaction(async (m) => {
      const request = await this.pending(m, id);
      await m.query(
        `UPDATE adjustment_requests SET status = 'rejected', decided_by = $2, decided_at = now() WHERE id = $1`,
        [id, request.requested_by === operator.id ? null : operator.id],
      );
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'adjustment.reject',
        targetType: 'account',
        targetId: request.account_id,
        reason: why,
        details: { adjustmentId: id },
      });
      return { id, status: 'rejected' };
    });
  }

  private async pending(m: import('typeorm').EntityManager, id: string): Promise<AdjustmentRequest> {
    const [request]: AdjustmentRequest[] = await m.query(
      `SELECT * FROM adjustment_requests WHERE id = $1 FOR UPDATE`,
      [id],
    );
    if (!request) throw notFound(`Adjustment ${id}`);
    if (request.status !== 'pending') {
      throw new AdminError(409, 'adjustment_not_pending', `This adjustment is already ${request.status}.`);
    }
    return request;
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
