import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { faultPoint } from '#messaging';
import {
  TransactionRepository,
  isDatabaseUnavailable,
  isStatementTimeout,
  type AcceptRequest,
  type AcceptResult,
} from '#persistence';

interface Waiting {
  request: AcceptRequest;
  resolve: (result: AcceptResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for accepts. A request that finds a free slot is written at once, alone; requests
 * that arrive while `inFlight` batches are being written wait and go together in the next one —
 * one statement and one commit for all of them (TransactionRepository.acceptMany). Under light
 * load nothing waits; under heavy load round trips and commits are shared, which is what the
 * database and the gateway's CPU spend most on. Every request still gets its own answer and its
 * own fate: the rows are decided independently inside the statement.
 */
@Injectable()
export class AcceptBatcher {
  private readonly queue: Waiting[] = [];
  private running = 0;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject('ACCEPT_BATCH_OPTIONS') private readonly options: { maxBatch: number; inFlight: number },
  ) {}

  accept(request: AcceptRequest): Promise<AcceptResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.running < this.options.inFlight && this.queue.length > 0) {
      const batch = this.take();
      this.running++;
      void this.write(batch).finally(() => {
        this.running--;
        this.flush();
      });
    }
  }

  /**
   * Writes a batch. If the statement fails, a batch of several is written again in two halves,
   * and so on down, so a request the database refuses (a value it cannot store, say) fails alone,
   * not its neighbours — in about 2·log2(n) more statements, not n. When the database itself is
   * failing (unreachable, the statement cut by its timeout), splitting would only multiply the
   * failures: every request in the batch gets the error.
   */
  private async write(batch: Waiting[]): Promise<void> {
    try {
      const results = await this.transactions.acceptMany(
        this.dataSource,
        batch.map((w) => w.request),
      );
      faultPoint('gateway.after-accept-commit');
      batch.forEach((w, i) => w.resolve(results[i]));
    } catch (error) {
      if (batch.length === 1 || isDatabaseUnavailable(error) || isStatementTimeout(error)) {
        for (const waiting of batch) waiting.reject(error);
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.write(batch.slice(0, half));
      await this.write(batch.slice(half));
    }
  }

  /** The oldest waiting requests, at most maxBatch, no two with the same (tenant, key). */
  private take(): Waiting[] {
    const batch: Waiting[] = [];
    const keys = new Set<string>();
    for (let i = 0; i < this.queue.length && batch.length < this.options.maxBatch;) {
      const waiting = this.queue[i];
      const key = `${waiting.request.transaction.tenantId}\u0000${waiting.request.guard.key}`;
      if (keys.has(key)) {
        i++; // the same key again: next batch, after this one has decided the first
        continue;
      }
      keys.add(key);
      batch.push(waiting);
      this.queue.splice(i, 1);
    }
    return batch;
  }
}
