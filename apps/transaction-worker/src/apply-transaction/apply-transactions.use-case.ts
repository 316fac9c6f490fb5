import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Ledger, type Applied } from '#ledger';
import { PayoutRepository } from '#persistence';

export type { Applied } from '#ledger';

/** Whether withdrawals are paid out through a payment provider (PAYOUT_PROVIDER_URL is set). */
export interface PayoutMode {
  enabled: boolean;
}

/**
 * Applies a set of pending transactions (the commands of one batch) to the ledger inside the
 * caller's database transaction: the ledger locks, checks, posts and announces them set-wise.
 * With a payment provider, a withdrawal's funds are held instead and its payout is recorded in
 * the same transaction; the dispatcher calls the provider after the commit.
 */
@Injectable()
export class ApplyTransactions {
  constructor(
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject(PayoutRepository) private readonly payouts: PayoutRepository,
    @Inject('PAYOUT_MODE') private readonly mode: PayoutMode,
  ) {}

  async execute(manager: EntityManager, transactionIds: string[]): Promise<Applied[]> {
    const applied = await this.ledger.apply(manager, {
      kind: 'transactions',
      ids: transactionIds,
      payouts: this.mode.enabled,
    });
    const processing = applied.filter((a) => a.status === 'processing').map((a) => a.transactionId);
    await this.payouts.insertFor(manager, processing);
    return applied;
  }
}
