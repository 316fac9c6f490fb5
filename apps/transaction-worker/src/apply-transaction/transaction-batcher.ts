import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { faultPoint, type AmqpContext } from '#messaging';
import { InboxStore, OutboxSignal } from '#persistence';
import { ApplyTransactions } from './apply-transactions.use-case.js';

export const WORKER_CONSUMER = 'transaction-worker';

interface Pending {
  ctx: AmqpContext;
  transactionId: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface BatchOptions {
  /** Most commands applied in one database transaction. */
  maxSize: number;
  /** Batches in flight at once (each holds a database connection). */
  maxConcurrent: number;
}

/**
 * Gathers the commands that arrive together (up to the channel's prefetch) and applies them in
 * one database transaction: the inbox rows of all of them, then ApplyTransactions. Each message's
 * handler resolves when its batch has committed, so its ack still follows its commit. If a batch
 * fails, its messages are tried again one by one, so one bad command cannot hold back the rest;
 * a message that fails alone is left to the transport's retry policy.
 */
@Injectable()
export class TransactionBatcher {
  private readonly log = new Logger(TransactionBatcher.name);
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(InboxStore) private readonly inbox: InboxStore,
    @Inject(ApplyTransactions) private readonly applyTransactions: ApplyTransactions,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject('BATCH_OPTIONS') private readonly options: BatchOptions,
  ) {}

  submit(ctx: AmqpContext, transactionId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ctx, transactionId, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Let the deliveries already in the socket buffer join this batch.
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxConcurrent) {
      const batch = this.queue.splice(0, this.options.maxSize);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    try {
      await this.apply(batch);
      for (const item of batch) item.resolve();
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      this.log.warn(`batch of ${batch.length} failed (${(error as Error).message}); applying one by one`);
      for (const item of batch) {
        try {
          await this.apply([item]);
          item.resolve();
        } catch (single) {
          item.reject(single);
        }
      }
    }
  }

  private async apply(batch: Pending[]): Promise<void> {
    const duplicates = await this.dataSource.transaction(async (manager) => {
      const fresh = await this.inbox.claimMany(
        manager,
        WORKER_CONSUMER,
        batch.map((b) => b.ctx.messageId),
      );
      // Two copies of one message in this batch claim one inbox row: the first is the message,
      // the other a duplicate, as it would be in a later batch.
      const live: Pending[] = [];
      const duplicates: Pending[] = [];
      for (const b of batch) {
        if (fresh.delete(b.ctx.messageId)) live.push(b);
        else duplicates.push(b);
      }
      if (live.length > 0)
        await this.applyTransactions.execute(
          manager,
          live.map((b) => b.transactionId),
        );
      faultPoint('worker.before-commit');
      return duplicates;
    });
    faultPoint('worker.after-commit');
    // Only once committed: a rolled-back batch proves nothing about duplicates.
    for (const b of duplicates) b.ctx.markDuplicate();
    this.outboxSignal.committed();
  }
}
