import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Ledger } from '#ledger';
import { settlePayoutIn, type PayoutExpectation, type PayoutOutcome } from '#payouts';
import { Metrics } from '#observability';
import { OutboxSignal, PayoutRepository } from '#persistence';

export type { PayoutOutcome } from '#payouts';

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

  /**
   * In a transaction of its own; true when this call applied the outcome. With `expected`, only
   * while the payout is still as the caller left it (see settlePayoutIn).
   */
  async execute(
    transactionId: string,
    outcome: PayoutOutcome,
    path: OutcomePath,
    expected?: PayoutExpectation,
  ): Promise<boolean> {
    const applied = await this.dataSource.transaction((manager) =>
      settlePayoutIn(manager, this.ledger, this.payouts, transactionId, outcome, expected),
    );
    if (applied) this.committed(outcome, path);
    return applied;
  }

  /** Inside the caller's transaction; the caller calls `committed` for each applied once it commits. */
  applyIn(manager: EntityManager, transactionId: string, outcome: PayoutOutcome): Promise<boolean> {
    return settlePayoutIn(manager, this.ledger, this.payouts, transactionId, outcome);
  }

  /** An applied outcome is committed: its events may go, and it is counted. */
  committed(outcome: PayoutOutcome, path: OutcomePath): void {
    this.outboxSignal.committed();
    this.metrics.payoutOutcomes.inc({ outcome: outcome.outcome, path });
  }
}
