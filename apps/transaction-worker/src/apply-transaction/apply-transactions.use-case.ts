import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Ledger, type Applied } from '#ledger';

export type { Applied } from '#ledger';

/**
 * Applies a set of pending transactions (the commands of one batch) to the ledger inside the
 * caller's database transaction: the ledger locks, checks, posts and announces them set-wise.
 */
@Injectable()
export class ApplyTransactions {
  constructor(@Inject(Ledger) private readonly ledger: Ledger) {}

  execute(manager: EntityManager, transactionIds: string[]): Promise<Applied[]> {
    return this.ledger.apply(manager, { kind: 'transactions', ids: transactionIds });
  }
}
