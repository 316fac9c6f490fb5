import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';

const TICK_MS = 50;

/**
 * Lets requests wait for their transactions to finish (`Prefer: wait=N`). One poller checks every
 * waited-for id in a single query per tick, and only while someone is waiting. (No NOTIFY from
 * the worker: NOTIFY in a writing transaction serialises commits database-wide.)
 */
@Injectable()
export class TransactionCompletion implements OnApplicationShutdown {
  private readonly waiters = new Map<string, Set<() => void>>();
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
    for (const wakes of this.waiters.values()) for (const wake of wakes) wake();
  }

  /** Resolves true once the transaction is final, false after `ms`. */
  async wait(id: string, ms: number): Promise<boolean> {
    let wake!: () => void;
    let final = false;
    const done = new Promise<void>((resolve) => (wake = resolve));
    const onFinal = () => {
      final = true;
      wake();
    };
    const set = this.waiters.get(id) ?? new Set();
    set.add(onFinal);
    this.waiters.set(id, set);
    this.schedule();
    const timeout = setTimeout(wake, ms);
    await done;
    clearTimeout(timeout);
    set.delete(onFinal);
    if (set.size === 0) this.waiters.delete(id);
    return final;
  }

  private schedule(): void {
    if (this.timer || this.polling || this.waiters.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, TICK_MS);
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      const ids = [...this.waiters.keys()];
      const rows: { id: string }[] = await this.dataSource.query(
        `SELECT id FROM transactions WHERE id = ANY($1::text[]) AND status IN ('succeeded', 'failed')`,
        [ids],
      );
      for (const { id } of rows) for (const wake of this.waiters.get(id) ?? []) wake();
    } catch {
      // the next tick tries again
    } finally {
      this.polling = false;
      this.schedule();
    }
  }
}
