import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Tells outbox relays that new rows were committed. Whoever owns a transaction that wrote to the
 * outbox calls `committed()` after the commit: relays in this process are woken directly, and
 * one NOTIFY (coalesced, sent outside any write) wakes the others. Polling remains the source of
 * truth; this only shortens the wait.
 */
// Relays in this process are poked at once; other processes' relays need only an occasional nudge.
const NOTIFY_EVERY_MS = 50;

@Injectable()
export class OutboxSignal {
  private readonly listeners = new Set<() => void>();
  private notifyScheduled = false;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  onCommitted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  committed(): void {
    for (const listener of this.listeners) listener();
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setTimeout(() => {
      this.notifyScheduled = false;
      if (!this.dataSource.isInitialized) return;
      this.dataSource.query(`NOTIFY tally_outbox`).catch(() => undefined);
    }, NOTIFY_EVERY_MS).unref();
  }
}
