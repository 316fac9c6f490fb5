import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { newId } from '#domain';
import { ApiError } from '#http';
import { Ledger } from '#ledger';
import { OutboxSignal, type TransactionRecord } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { requireSecondOperator } from '../auth/four-eyes.js';
import { conflict, notFound } from '../http/errors.js';
import { AdjustmentRepository, type AdjustmentRequest } from './adjustment.repository.js';
import { CustomerAccountRepository } from './customer-account.repository.js';
import { RerunRepository } from './rerun.repository.js';

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
 * Executing turns a request into an `adjustment` transaction and its command, in the same
 * database transaction: the worker applies it under the same locks and rules as any other (a
 * debit the account cannot cover fails), never a direct balance edit. This is the one place an
 * adjustment transaction is made.
 */
@Injectable()
export class Adjustments {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject(AdjustmentRepository) private readonly requests: AdjustmentRepository,
    @Inject(CustomerAccountRepository) private readonly accounts: CustomerAccountRepository,
    @Inject(RerunRepository) private readonly reruns: RerunRepository,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject('LEDGER_OPTIONS') private readonly policy: AdjustmentPolicy,
  ) {}

  /** An operator asks for an adjustment: executed at once within their allowance, else pending. */
  async request(operator: Operator, input: NewAdjustment): Promise<AdjustmentAnswer> {
    const answer = await this.dataSource.transaction((m) => this.requestIn(m, operator, input));
    if (!answer.replayed && answer.transactionId) this.outboxSignal.committed();
    return answer;
  }

  /** `request`, in the caller's database transaction (a re-run of a failed adjustment). */
  async requestIn(
    manager: EntityManager,
    operator: Operator,
    input: NewAdjustment,
  ): Promise<AdjustmentAnswer> {
    const account = await this.accounts.tenantAndCurrency(manager, input.accountId);
    if (!account) throw notFound(`Account ${input.accountId}`);
    await this.requests.lockOperator(manager, operator.id);
    const fingerprint = input.idempotencyKey ? fingerprintOf(input) : null;
    if (input.idempotencyKey) {
      const earlier = await this.requests.findByKey(manager, operator.id, input.idempotencyKey);
      if (earlier) return firstAnswer(earlier, fingerprint!);
    }
    const total = await this.requests.windowTotal(
      manager,
      operator.id,
      account.currency,
      this.policy.approvalWindowSeconds,
    );
    const windowTotal = total + input.amount;
    const needsApproval = input.approvalRequired === true || windowTotal > this.policy.approvalThreshold;
    const request = await this.requests.insert(manager, {
      id: newId('adj'),
      tenantId: account.tenantId,
      accountId: input.accountId,
      direction: input.direction,
      amount: input.amount,
      currency: account.currency,
      reason: input.reason,
      requestedBy: operator.id,
      approvalRequired: needsApproval,
      idempotencyKey: input.idempotencyKey ?? null,
      fingerprint,
      rerunOf: input.rerunOf ?? null,
    });
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
  async approve(operator: Operator, id: string) {
    const answer = await this.dataSource.transaction(async (manager) => {
      const request = await this.pending(manager, id);
      requireSecondOperator(request.requested_by, operator, 'adjustment');
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
    });
    this.outboxSignal.committed();
    return answer;
  }

  /** Rejects a pending request (its requester may withdraw it); a rejected re-run frees its transaction. */
  async reject(operator: Operator, id: string, why: string) {
    return this.dataSource.transaction(async (manager) => {
      const request = await this.pending(manager, id);
      await this.requests.markRejected(
        manager,
        id,
        request.requested_by === operator.id ? null : operator.id,
      );
      await this.reruns.release(manager, id);
      await this.audit.record(manager, {
        operatorId: operator.id,
        action: 'adjustment.reject',
        targetType: 'account',
        targetId: request.account_id,
        reason: why,
        details: { adjustmentId: id },
      });
      return { id, status: 'rejected' as const };
    });
  }

  private async execute(
    manager: EntityManager,
    request: AdjustmentRequest,
    decidedBy: string | null,
  ): Promise<TransactionRecord> {
    const t = await this.ledger.request(manager, {
      id: newId('txn'),
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
    });
    await this.requests.markExecuted(manager, request.id, t.id, decidedBy);
    if (request.rerun_of) await this.reruns.setExecuted(manager, request.id, t.id);
    return t;
  }

  private async pending(manager: EntityManager, id: string): Promise<AdjustmentRequest> {
    const request = await this.requests.lock(manager, id);
    if (!request) throw notFound(`Adjustment ${id}`);
    if (request.status !== 'pending') {
      throw conflict('adjustment_not_pending', `This adjustment is already ${request.status}.`);
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
    throw new ApiError(
      422,
      'idempotency_key_reused',
      'This Idempotency-Key was used with a different adjustment (account, direction, amount or reason).',
    );
  }
  return earlier.approval_required
    ? { id: earlier.id, status: 'pending_approval', transactionId: null, replayed: true }
    : { id: earlier.id, status: 'executed', transactionId: earlier.transaction_id, replayed: true };
}
