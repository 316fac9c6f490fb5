import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { isPayoutFinal } from '#domain';
import { Ledger } from '#ledger';
import { Metrics } from '#observability';
import { OutboxSignal, PayoutRepository } from '#persistence';

export type PayoutOutcome =
  | { outcome: 'succeeded'; providerPayoutId: string | null }
  | { outcome: 'failed'; providerPayoutId: string | null; failure: { code: string; message: string } };

/** Which path saw the outcome first: the provider's webhook, a poll, its answer, or reconciliation. */
export type OutcomePath = 'webhook' | 'poll' | 'answer' | 'reconcile';

/**
 * Applies a payout's outcome exactly once, whichever path sees it first: under the payout's row
 * lock, only a payout not yet final is settled — the ledger spends its hold (succeeded: entries
 * posted) or releases it (failed) and the withdrawal gets its final status and event. A second
 * path arriving later finds it final and changes nothing.
 */
@Injectable()
export class SettlePayout {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PayoutRepository) private readonly payouts: PayoutRepository,
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /** In a transaction of its own; true when this call applied the outcome. */
  async execute(transactionId: string, outcome: PayoutOutcome, path: OutcomePath): Promise<boolean> {
    const applied = await this.dataSource.transaction((manager) =>
      this.applyIn(manager, transactionId, outcome, path),
    );
    if (applied) this.outboxSignal.committed();
    return applied;
  }

  /** Inside the caller's transaction (the caller signals the outbox after its commit). */
  async applyIn(
    manager: EntityManager,
    transactionId: string,
    outcome: PayoutOutcome,
    path: OutcomePath,
  ): Promise<boolean> {
    const payout = await this.payouts.lock(manager, transactionId);
    if (!payout || isPayoutFinal(payout.status)) return false;
    await this.ledger.apply(manager, {
      kind: 'settle',
      payouts: [
        outcome.outcome === 'succeeded'
          ? { transactionId, outcome: 'succeeded' }
          : { transactionId, outcome: 'failed', failure: outcome.failure },
      ],
    });
    await this.payouts.finish(
      manager,
      transactionId,
      outcome.outcome,
      outcome.providerPayoutId,
      outcome.outcome === 'failed' ? outcome.failure.message : null,
    );
    this.metrics.payoutOutcomes.inc({ outcome: outcome.outcome, path });
    return true;
  }
}
