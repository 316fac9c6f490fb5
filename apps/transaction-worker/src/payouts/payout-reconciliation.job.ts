import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PAYOUT_FAILURES } from '#domain';
import { PAYOUT_PROVIDER, reconcilePayouts, type PayoutProvider } from '#payouts';
import { PayoutRepository } from '#persistence';
import { Periodic } from '../scheduling/periodic.js';
import { PayoutCircuit } from './payout-circuit.js';
import { SettlePayout } from './settle-payout.use-case.js';

export interface PayoutReconciliationOptions {
  intervalMs: number;
  /** Payouts created this long ago or later are compared. */
  windowMs: number;
}

/**
 * Compares Tally's payouts with the provider's report every `intervalMs` (not while the breaker
 * is open): outcomes Tally was still waiting for (accepted, or unknown after the last retry) are
 * applied; mismatches are recorded for operators (`npm run tally -- payouts:reconcile` runs
 * the same comparison by hand).
 */
@Injectable()
export class PayoutReconciliationJob extends Periodic {
  protected readonly intervalMs: number;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PayoutRepository) private readonly payouts: PayoutRepository,
    @Inject(PAYOUT_PROVIDER) private readonly provider: PayoutProvider,
    @Inject(PayoutCircuit) private readonly circuit: PayoutCircuit,
    @Inject(SettlePayout) private readonly settle: SettlePayout,
    @Inject('PAYOUT_RECONCILIATION_OPTIONS') private readonly options: PayoutReconciliationOptions,
  ) {
    super();
    this.intervalMs = options.intervalMs;
  }

  async sweep(): Promise<number> {
    if (this.circuit.state === 'open') return 0;
    const since = new Date(Date.now() - this.options.windowMs);
    const result = await reconcilePayouts(this.dataSource, this.payouts, this.provider, since);
    let applied = 0;
    for (const r of result.resolvable) {
      const outcome =
        r.outcome === 'succeeded'
          ? { outcome: 'succeeded' as const, providerPayoutId: r.providerPayoutId }
          : {
              outcome: 'failed' as const,
              providerPayoutId: r.providerPayoutId,
              failure: {
                code: r.providerStatus === 'returned' ? PAYOUT_FAILURES.returned : PAYOUT_FAILURES.failed,
                message: `The payment provider reports the payout ${r.providerStatus}; the funds are back on the account.`,
              },
            };
      if (await this.settle.execute(r.transactionId, outcome, 'reconcile')) applied++;
    }
    if (result.mismatches.length > 0)
      this.log.warn(`payout reconciliation: ${result.mismatches.length} mismatch(es) for operators`);
    return applied;
  }
}
