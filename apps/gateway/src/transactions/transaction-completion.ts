import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PgListener } from '#persistence';

/**
 * Lets a request wait for its transaction to finish (`Prefer: wait=N`). The worker NOTIFYs
 * `tally_txn_done` with the id when it commits an outcome; polling covers lost notifications.
 */
@Injectable()
export class TransactionCompletion implements OnModuleInit, OnApplicationShutdown {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listener: PgListener;

  constructor(@Inject(DataSource) dataSource: DataSource) {
    const url = (dataSource.options as { url: string }).url;
    this.listener = new PgListener(url, 'tally_txn_done', (id) => {
      if (id) for (const wake of this.waiters.get(id) ?? []) wake();
    });
  }

  onModuleInit(): void {
    this.listener.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener.stop();
  }

  /** Resolves true as soon as `isFinal()` holds, or false after `ms`. */
  async wait(id: string, ms: number, isFinal: () => Promise<boolean>): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      const set = this.waiters.get(id) ?? new Set();
      set.add(wake);
      this.waiters.set(id, set);
      try {
        if (await isFinal()) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([woken, new Promise<void>((r) => (timer = setTimeout(r, Math.min(left, 1_000))))]);
        clearTimeout(timer);
      } finally {
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(id);
      }
    }
  }
}
