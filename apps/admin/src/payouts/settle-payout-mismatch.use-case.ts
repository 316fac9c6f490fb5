import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { isPayoutFinal } from '#domain';
import { Ledger } from '#ledger';
import { settlePayoutIn } from '#payouts';
import { OutboxSignal, PayoutRepository, type LockedMismatch } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { requireSecondOperator } from '../auth/four-eyes.js';
import { conflict, notFound } from '../http/errors.js';

export interface PayoutSettlePolicy {
  /** A mismatch whose payout is above this (minor units) is settled only once a second operator approves. */
  approvalThreshold: bigint;
}

type Outcome = 'succeeded' | 'failed';
export type Resolution = Outcome | 'acknowledged';

/** What settling answers: settled at once, or waiting for a second operator. */
export interface SettleAnswer {
  transactionId: string;
  status: 'settled' | 'pending_approval';
  resolution: Resolution | null;
}

/**
 * An operator settles a reconciliation mismatch, audited, in one transaction: a payout with no
 * outcome yet (unknown) gets the one the operator found out (the ledger spends or releases its
 * hold, exactly once, as any other path would); a final one is acknowledged (its money is put
 * right by an adjustment, which has its own approval).
 *
 * Four eyes above the threshold, as for adjustments: the settlement is recorded as pending on the
 * mismatch and carried out only when another operator approves it. Each decision locks the
 * mismatch first, so two approvals at once settle it once and the later one finds it resolved.
 */
@Injectable()
export class SettlePayoutMismatch {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PayoutRepository) private readonly payouts: PayoutRepository,
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject('PAYOUT_SETTLE_OPTIONS') private readonly policy: PayoutSettlePolicy,
  ) {}

  /** Settles at once up to the threshold; above it, records the request for a second operator. */
  async execute(
    operator: Operator,
    transactionId: string,
    outcome: Outcome | undefined,
    why: string,
  ): Promise<SettleAnswer> {
    const answer = await this.dataSource.transaction(async (m): Promise<SettleAnswer> => {
      const mismatch = await this.open(m, transactionId);
      if (mismatch.pendingApproval)
        throw conflict(
          'payout_settlement_pending',
          `A settlement of ${transactionId} waits for a second operator: approve or reject it first.`,
        );
      const needed = await this.outcomeNeeded(m, transactionId, outcome);
      if (mismatch.amount <= this.policy.approvalThreshold) {
        const resolution = await this.settleIn(m, transactionId, needed ? outcome! : null);
        await this.resolve(m, operator, transactionId, resolution, 'payout.settle', why, {});
        return { transactionId, status: 'settled', resolution };
      }
      await this.payouts.requestMismatchApproval(m, transactionId, {
        requestedBy: operator.id,
        outcome: needed ? outcome! : null,
        reason: why,
      });
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'payout.settle_request',
        targetType: 'transaction',
        targetId: transactionId,
        reason: why,
        details: {
          outcome: needed ? outcome! : null,
          amount: mismatch.amount.toString(),
          currency: mismatch.currency,
          threshold: this.policy.approvalThreshold.toString(),
        },
      });
      return { transactionId, status: 'pending_approval', resolution: null };
    });
    this.signal(answer.resolution);
    return answer;
  }

  /** A second operator approves the pending settlement: it is carried out, once. */
  async approve(operator: Operator, transactionId: string): Promise<SettleAnswer> {
    const answer = await this.dataSource.transaction(async (m): Promise<SettleAnswer> => {
      const request = (await this.open(m, transactionId)).pendingApproval;
      if (!request)
        throw conflict(
          'payout_settlement_not_pending',
          `No settlement of ${transactionId} waits for approval.`,
        );
      requireSecondOperator(request.requestedBy, operator, 'settlement');
      // The outcome may have arrived meanwhile: then the payout is final and only acknowledged.
      const needed = await this.outcomeNeeded(m, transactionId, request.outcome ?? undefined);
      const resolution = await this.settleIn(m, transactionId, needed ? request.outcome : null);
      await this.resolve(m, operator, transactionId, resolution, 'payout.settle_approve', request.reason, {
        requestedBy: request.requestedBy,
      });
      return { transactionId, status: 'settled', resolution };
    });
    this.signal(answer.resolution);
    return answer;
  }

  /** Drops the pending settlement (its requester may withdraw it); the mismatch stays open. */
  async reject(operator: Operator, transactionId: string, why: string) {
    return this.dataSource.transaction(async (m) => {
      const request = (await this.open(m, transactionId)).pendingApproval;
      if (!request)
        throw conflict(
          'payout_settlement_not_pending',
          `No settlement of ${transactionId} waits for approval.`,
        );
      await this.payouts.clearMismatchApproval(m, transactionId);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'payout.settle_reject',
        targetType: 'transaction',
        targetId: transactionId,
        reason: why,
        details: { requestedBy: request.requestedBy, outcome: request.outcome },
      });
      return { transactionId, status: 'rejected' as const };
    });
  }

  /** The mismatch, locked: 404 when there is none, 409 when it is resolved already. */
  private async open(m: EntityManager, transactionId: string): Promise<LockedMismatch> {
    const mismatch = await this.payouts.lockMismatch(m, transactionId);
    if (!mismatch) throw notFound(`A payout mismatch for ${transactionId}`);
    if (mismatch.resolved)
      throw conflict(
        'payout_mismatch_resolved',
        `The payout mismatch of ${transactionId} is settled already.`,
      );
    return mismatch;
  }

  /** Whether the payout still waits for its outcome (then the operator must give it). */
  private async outcomeNeeded(
    m: EntityManager,
    transactionId: string,
    outcome: Outcome | undefined,
  ): Promise<boolean> {
    const payout = await this.payouts.find(m, transactionId);
    if (!payout || isPayoutFinal(payout.status)) return false;
    if (!outcome)
      throw conflict(
        'payout_outcome_required',
        `The payout of ${transactionId} has no outcome yet: say whether it was paid (succeeded) or not (failed).`,
      );
    return true;
  }

  /**
   * The outcome applied through the ledger, or `acknowledged` when there was none to apply: the
   * payout was final already, or became final (a webhook, a poll) between the check and the
   * payout's row lock — then what the audit records is what happened, not what was asked.
   */
  private async settleIn(
    m: EntityManager,
    transactionId: string,
    outcome: Outcome | null,
  ): Promise<Resolution> {
    if (!outcome) return 'acknowledged';
    const applied = await settlePayoutIn(
      m,
      this.ledger,
      this.payouts,
      transactionId,
      outcome === 'succeeded'
        ? { outcome, providerPayoutId: null }
        : {
            outcome,
            providerPayoutId: null,
            failure: {
              code: 'payout_failed',
              message: 'The payout was not paid out (settled by an operator).',
            },
          },
    );
    return applied ? outcome : 'acknowledged';
  }

  private async resolve(
    m: EntityManager,
    operator: Operator,
    transactionId: string,
    resolution: Resolution,
    action: string,
    why: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.payouts.resolveMismatch(m, transactionId, operator.id, resolution);
    await this.payouts.clearMismatchApproval(m, transactionId);
    await this.audit.record(m, {
      operatorId: operator.id,
      action,
      targetType: 'transaction',
      targetId: transactionId,
      reason: why,
      details: { resolution, ...details },
    });
  }

  private signal(resolution: Resolution | null): void {
    if (resolution === 'succeeded' || resolution === 'failed') this.outboxSignal.committed();
  }
}
