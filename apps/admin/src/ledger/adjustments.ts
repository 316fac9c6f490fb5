import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { MessageTypes, newId, type TransactionRequested } from '#domain';
import { Exchanges } from '#messaging';
import { TransactionRepository, type TransactionRecord } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { AdminError, notFound } from '../http/admin-error.js';

export interface AdjustmentRequest {
  id: string;
  tenant_id: string;
  account_id: string;
  direction: 'credit' | 'debit';
  amount: string;
  currency: string;
  reason: string;
  status: 'pending' | 'executed' | 'rejected';
  requested_by: string;
  decided_by: string | null;
  transaction_id: string | null;
  approval_required: boolean;
  idempotency_key: string | null;
  fingerprint: string | null;
  rerun_of: string | null;
}

export interface AdjustmentPolicy {
  /** An operator's adjustments in one currency may add up to this (minor units) without approval… */
  approvalThreshold: bigint;
  /** …within this rolling window. */
  approvalWindowSeconds: number;
}

export interface NewAdjustment {
  accountId: string;
  direction: 'credit' | 'debit';
  amount: bigint;
  reason: string;
  /** Per requesting operator: the same key and request answer the first answer again. */
  idempotencyKey?: string;
  /** The failed adjustment this one re-runs. */
  rerunOf?: string;
  /** Approval needed whatever the total (a re-run of an adjustment that needed it). */
  approvalRequired?: boolean;
}

/** What requesting an adjustment answers, and answers again for the same Idempotency-Key. */
export interface AdjustmentAnswer {
  id: string;
  status: 'pending_approval' | 'executed';
  transactionId: string | null;
  replayed: boolean;
}

/**
 * Operators' balance adjustments and their four-eyes rule. An adjustment is executed at once only
 * while the requesting operator's adjustments in its currency over the rolling window (pending and
 * executed, this one included) stay within the threshold; beyond it, it waits for a second
 * operator. Requests of one operator are serialised (a transaction-scoped advisory lock), so two
 * sent at once cannot both count themselves under the threshold, and a retried Idempotency-Key
 * finds the first request's row.
 *
 * Executing turns a request into an `adjustment` transaction and its command, in the caller's
 * database transaction: the worker applies it under the same locks and rules as any other (a
 * debit the account cannot cover fails), never a direct balance edit.
 */
@Injectable()
export class Adjustments {
  constructor(
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject('LEDGER_OPTIONS') private readonly policy: AdjustmentPolicy,
  ) {}

  async request(manager: EntityManager, operator: Operator, input: NewAdjustment): Promise<AdjustmentAnswer> {
    const [account]: { tenant_id: string; currency: string }[] = await manager.query(
      `SELECT tenant_id, currency FROM accounts WHERE id = $1 AND kind = 'customer'`,
      [input.accountId],
    );
    if (!account) throw notFound(`Account ${input.accountId}`);
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('adjustments:' || $1, 0))`, [
      operator.id,
    ]);
    const fingerprint = input.idempotencyKey ? fingerprintOf(input) : null;
    if (input.idempotencyKey) {
      const [earlier]: AdjustmentRequest[] = await manager.query(
        `SELECT * FROM adjustment_requests WHERE requested_by = $1 AND idempotency_key = $2`,
        [operator.id, input.idempotencyKey],
      );
      if (earlier) return firstAnswer(earlier, fingerprint!);
    }
    const [{ total }]: { total: string }[] = await manager.query(
      `SELECT coalesce(sum(amount), 0)::text AS total FROM adjustment_requests
        WHERE requested_by = $1 AND currency = $2 AND status <> 'rejected'
          AND created_at > now() - make_interval(secs => $3)`,
      [operator.id, account.currency, this.policy.approvalWindowSeconds],
    );
    const windowTotal = BigInt(total) + input.amount;
    const needsApproval = input.approvalRequired === true || windowTotal > this.policy.approvalThreshold;
    const [request]: AdjustmentRequest[] = await manager.query(
      `INSERT INTO adjustment_requests (id, tenant_id, account_id, direction, amount, currency, reason, requested_by,
         approval_required, idempotency_key, fingerprint, rerun_of)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
      [
        newId('adj'),
        account.tenant_id,
        input.accountId,
        input.direction,
        input.amount.toString(),
        account.currency,
        input.reason,
        operator.id,
        needsApproval,
        input.idempotencyKey ?? null,
        fingerprint,
        input.rerunOf ?? null,
      ],
    );
    const t = needsApproval ? null : await this.execute(manager, request, null);
    await this.audit.record(manager, {
      operatorId: operator.id,
      action: needsApproval ? 'adjustment.request' : 'adjustment.execute',
      targetType: 'account',
      targetId: input.accountId,
      reason: input.reason,
      details: {
        adjustmentId: request.id,
        direction: input.direction,
        amount: input.amount.toString(),
        transactionId: t?.id ?? null,
        // What the rule saw: this operator's total in the window, this adjustment included.
        windowTotal: windowTotal.toString(),
        ...(input.rerunOf ? { rerunOf: input.rerunOf } : {}),
      },
    });
    return {
      id: request.id,
      status: needsApproval ? 'pending_approval' : 'executed',
      transactionId: t?.id ?? null,
      replayed: false,
    };
  }

  /** A second operator approves a pending request: it is executed. */
  async approve(manager: EntityManager, operator: Operator, id: string) {
    const request = await this.pending(manager, id);
    if (request.requested_by === operator.id) {
      throw new AdminError(
        403,
        'second_approval_required',
        'A second operator must approve this adjustment.',
      );
    }
    const t = await this.execute(manager, request, operator.id);
    await this.audit.record(manager, {
      operatorId: operator.id,
      action: 'adjustment.approve',
      targetType: 'account',
      targetId: request.account_id,
      reason: request.reason,
      details: { adjustmentId: id, transactionId: t.id, requestedBy: request.requested_by },
    });
    return { id, status: 'executed' as const, transactionId: t.id };
  }

  /** Rejects a pending request (its requester may withdraw it); a rejected re-run frees its transaction. */
  async reject(manager: EntityManager, operator: Operator, id: string, why: string) {
    const request = await this.pending(manager, id);
    await manager.query(
      `UPDATE adjustment_requests SET status = 'rejected', decided_by = $2, decided_at = now() WHERE id = $1`,
      [id, request.requested_by === operator.id ? null : operator.id],
    );
    await manager.query(`DELETE FROM transaction_reruns WHERE adjustment_request_id = $1`, [id]);
    await this.audit.record(manager, {
      operatorId: operator.id,
      action: 'adjustment.reject',
      targetType: 'account',
      targetId: request.account_id,
      reason: why,
      details: { adjustmentId: id },
    });
    return { id, status: 'rejected' as const };
  }

  private async execute(
    manager: EntityManager,
    request: AdjustmentRequest,
    decidedBy: string | null,
  ): Promise<TransactionRecord> {
    const id = newId('txn');
    const command: TransactionRequested = { transactionId: id, tenantId: request.tenant_id };
    const t = await this.transactions.insert(
      manager,
      {
        id,
        tenantId: request.tenant_id,
        type: 'adjustment',
        status: 'pending',
        amount: BigInt(request.amount),
        currency: request.currency,
        sourceAccountId: request.direction === 'debit' ? request.account_id : null,
        destinationAccountId: request.direction === 'credit' ? request.account_id : null,
        parentTransactionId: null,
        holdId: null,
        description: `Adjustment: ${request.reason}`.slice(0, 500),
        metadata: {
          adjustmentRequestId: request.id,
          requestedBy: request.requested_by,
          ...(request.rerun_of ? { rerunOf: request.rerun_of } : {}),
        },
        correlationId: null,
      },
      [{ exchange: Exchanges.commands, routingKey: MessageTypes.transactionRequested, payload: command }],
    );
    await manager.query(
      `UPDATE adjustment_requests SET status = 'executed', transaction_id = $2, decided_by = $3,
              decided_at = CASE WHEN $3::text IS NULL THEN NULL ELSE now() END
        WHERE id = $1`,
      [request.id, id, decidedBy],
    );
    if (request.rerun_of) {
      await manager.query(
        `UPDATE transaction_reruns SET rerun_transaction_id = $2 WHERE adjustment_request_id = $1`,
        [request.id, id],
      );
    }
    return t;
  }

  private async pending(manager: EntityManager, id: string): Promise<AdjustmentRequest> {
    const [request]: AdjustmentRequest[] = await manager.query(
      `SELECT * FROM adjustment_requests WHERE id = $1 FOR UPDATE`,
      [id],
    );
    if (!request) throw notFound(`Adjustment ${id}`);
    if (request.status !== 'pending') {
      throw new AdminError(409, 'adjustment_not_pending', `This adjustment is already ${request.status}.`);
    }
    return request;
  }
}

/** Same account, direction, amount and reason ⇒ same fingerprint. */
function fingerprintOf(input: NewAdjustment): string {
  return createHash('sha256')
    .update(JSON.stringify([input.accountId, input.direction, input.amount.toString(), input.reason]))
    .digest('hex');
}

/** The answer the first request with this key got, or 422 when the key came with another request. */
function firstAnswer(earlier: AdjustmentRequest, fingerprint: string): AdjustmentAnswer {
  if (earlier.fingerprint !== fingerprint) {
    throw new AdminError(
      422,
      'idempotency_key_reused',
      'This Idempotency-Key was used with a different adjustment (account, direction, amount or reason).',
    );
  }
  return earlier.approval_required
    ? { id: earlier.id, status: 'pending_approval', transactionId: null, replayed: true }
    : { id: earlier.id, status: 'executed', transactionId: earlier.transaction_id, replayed: true };
}
