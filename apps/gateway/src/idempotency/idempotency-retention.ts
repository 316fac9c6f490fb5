import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { IdempotencyStore } from '#persistence';

const SWEEP_EVERY_MS = 10 * 60_000;

/** Forgets idempotency keys older than the retention period (never less than 24 h), a batch at a time. */
export class IdempotencyRetention implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(IdempotencyRetention.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly retentionHours: number,
    private readonly store = new IdempotencyStore(),
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<number> {
    try {
      return await this.store.forgetOlderThan(this.dataSource, this.retentionHours);
    } catch (error) {
      this.log.warn(`idempotency sweep failed: ${(error as Error).message}`);
      return 0;
    }
  }
}
