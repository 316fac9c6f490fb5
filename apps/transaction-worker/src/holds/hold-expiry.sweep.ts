import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Ledger } from '#ledger';
import { HoldRepository, OutboxSignal } from '#persistence';
import { Periodic } from '../scheduling/periodic.js';

export interface HoldSweepOptions {
  intervalMs: number;
  batchSize: number;
}

/**
 * Releases active holds past their expiry: in one database transaction per batch, the expired
 * holds are claimed (SKIP LOCKED, so several workers share the work and each hold is released by
 * exactly one of them), then the ledger releases them: their accounts locked in id order, the held
 * amounts released, the holds marked `expired` and `hold.expired` written to the outbox.
 */
@Injectable()
export class HoldExpirySweep extends Periodic {
  protected readonly intervalMs: number;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(HoldRepository) private readonly holds: HoldRepository,
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject('HOLD_SWEEP_OPTIONS') private readonly options: HoldSweepOptions,
  ) {
    super();
    this.intervalMs = options.intervalMs;
  }

  /** Releases every hold expired by now; answers how many. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const released = await this.releaseBatch();
      total += released;
      if (released < this.options.batchSize || this.stopped) break;
    }
    if (total > 0) this.log.log(`released ${total} expired hold(s)`);
    return total;
  }

  private async releaseBatch(): Promise<number> {
    const released = await this.dataSource.transaction(async (manager) => {
      const expired = await this.holds.claimExpired(manager, this.options.batchSize);
      if (expired.length === 0) return 0;
      const finished = await this.ledger.apply(manager, {
        kind: 'release',
        holds: expired,
        status: 'expired',
      });
      return finished.length;
    });
    if (released > 0) this.outboxSignal.committed();
    return released;
  }
}
