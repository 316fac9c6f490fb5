import { Inject, Injectable } from '@nestjs/common';
import { BoughtTogether } from '#persistence';
import { Periodic } from '../scheduling/periodic.js';

export interface BoughtTogetherOptions {
  intervalMs: number;
}

/**
 * Runs the "bought together" job every RECOMMENDATIONS_INTERVAL: counts the orders completed since
 * the last run (each order once, whichever replica runs it) and copies the changed products'
 * neighbours to Redis.
 */
@Injectable()
export class BoughtTogetherJob extends Periodic {
  protected readonly intervalMs: number;

  constructor(
    @Inject(BoughtTogether) private readonly job: BoughtTogether,
    @Inject('BOUGHT_TOGETHER_OPTIONS') options: BoughtTogetherOptions,
  ) {
    super();
    this.intervalMs = options.intervalMs;
  }

  override async onApplicationShutdown(): Promise<void> {
    await super.onApplicationShutdown();
    await this.job.close();
  }

  /** One run: answers how many orders it counted. */
  async sweep(): Promise<number> {
    const run = await this.job.run(() => this.stopped);
    if (run.orders > 0 || run.synced > 0) {
      this.log.log(`counted ${run.orders} order(s), copied ${run.synced} product(s) to Redis`);
    }
    if (run.syncError) this.log.warn(`Redis copy left for the next run: ${run.syncError}`);
    return run.orders;
  }
}
