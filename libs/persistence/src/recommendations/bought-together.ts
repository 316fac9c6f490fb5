import type { DataSource, EntityManager } from 'typeorm';
import type { NeighbourSets } from './neighbour-sets.js';
import { PairRepository } from './pair.repository.js';

/** Neighbours kept per product in Redis: twice the most an API call may ask for. */
export const NEIGHBOURS_KEPT = 100;

/** Advisory lock key of the job (one runner at a time across replicas and the CLI). */
const JOB_LOCK = 0x7a11_b0c7;

export interface BoughtTogetherRun {
  /** Completed orders counted. */
  orders: number;
  /** Products whose Redis copy was brought up to date. */
  synced: number;
  /** False when another runner held the job from the start (nothing was done). */
  ran: boolean;
  /** Why copying to Redis stopped, when it failed (the products stay marked, for the next run). */
  syncError?: string;
}

/**
 * The "bought together" job: counts completed orders into `product_pairs` in batches (each its
 * own transaction, so a crash loses at most the batch in progress, which is counted again), then
 * copies the changed products' top neighbours to Redis. One runner at a time: a transaction-level
 * advisory lock per step, taken with try (a second runner skips the step rather than waiting).
 */
export class BoughtTogether {
  private readonly pairs = new PairRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly sets: NeighbourSets | null,
    private readonly batchSize = 500,
  ) {}

  /** Counts every order not yet counted, then syncs Redis. */
  async run(shouldStop: () => boolean = () => false): Promise<BoughtTogetherRun> {
    const run: BoughtTogetherRun = { orders: 0, synced: 0, ran: true };
    for (;;) {
      if (shouldStop()) return run;
      const counted = await this.locked((m) => this.pairs.countBatch(m, this.batchSize));
      // Another runner has the job: it counts what is left (and syncs), so this run ends.
      if (counted === null) return run.orders === 0 ? { ...run, ran: false } : run;
      run.orders += counted;
      if (counted < this.batchSize) break;
    }
    try {
      await this.sync(shouldStop, run);
    } catch (error) {
      run.syncError = (error as Error).message;
    }
    return run;
  }

  /** Forgets every count and counts all completed orders again (`recommendations:rebuild`). */
  async rebuild(): Promise<BoughtTogetherRun> {
    const reset = await this.locked(async (m) => {
      await this.pairs.reset(m);
      return 0;
    });
    if (reset === null) return { orders: 0, synced: 0, ran: false };
    return this.run();
  }

  /**
   * Copies products whose Redis set is behind, under the job's lock (so no batch counts between
   * reading a product's neighbours and marking its copy current); left for the next run when Redis
   * fails.
   */
  private async sync(shouldStop: () => boolean, run: BoughtTogetherRun): Promise<void> {
    const sets = this.sets;
    if (!sets) return;
    while (!shouldStop()) {
      const copied = await this.locked(async (m) => {
        const lists = await this.pairs.unsynced(m, 200, NEIGHBOURS_KEPT);
        if (lists.length === 0) return 0;
        await sets.write(lists);
        await this.pairs.synced(
          m,
          lists.map((l) => l.productId),
        );
        return lists.length;
      });
      if (!copied) break;
      run.synced += copied;
    }
  }

  /** Lets go of Redis. */
  async close(): Promise<void> {
    await this.sets?.close();
  }

  private async locked<T>(work: (manager: EntityManager) => Promise<T>): Promise<T | null> {
    return this.dataSource.transaction(async (manager) => {
      const [{ held }]: { held: boolean }[] = await manager.query(
        `SELECT pg_try_advisory_xact_lock($1) AS held`,
        [JOB_LOCK],
      );
      return held ? work(manager) : null;
    });
  }
}
