import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isPayoutFinal } from '#domain';
import { Ledger } from '#ledger';
import { settlePayoutIn } from '#payouts';
import { OutboxSignal, PayoutRepository } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { conflict, notFound } from '../http/errors.js';

/**
 * An operator settles a reconciliation mismatch, audited, in one transaction: a payout with no
 * outcome yet (unknown) gets the one the operator found out (the ledger spends or releases its
 * hold, exactly once, as any other path would); a final one is acknowledged (its money is put
 * right by an adjustment, which has its own approval).
 */
@Injectable()
export class SettlePayoutMismatch {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PayoutRepository) private readonly payouts: PayoutRepository,
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
  ) {}

  async execute(
    operator: Operator,
    transactionId: string,
    outcome: 'succeeded' | 'failed' | undefined,
    why: string,
  ) {
    const result = await this.dataSource.transaction(async (m) => {
      const mismatch = await this.payouts.lockOpenMismatch(m, transactionId);
      if (!mismatch) throw notFound(`An open payout mismatch for ${transactionId}`);
      const payout = await this.payouts.find(m, transactionId);
      let resolution: 'succeeded' | 'failed' | 'acknowledged' = 'acknowledged';
      if (payout && !isPayoutFinal(payout.status)) {
        if (!outcome)
          throw conflict(
            'payout_outcome_required',
            `The payout of ${transactionId} has no outcome yet: say whether it was paid (succeeded) or not (failed).`,
          );
        await settlePayoutIn(
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
        resolution = outcome;
      }
      await this.payouts.resolveMismatch(m, transactionId, operator.id, resolution);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'payout.settle',
        targetType: 'transaction',
        targetId: transactionId,
        reason: why,
      });
      return { transactionId, resolution };
    });
    if (result.resolution !== 'acknowledged') this.outboxSignal.committed();
    return result;
  }
}
