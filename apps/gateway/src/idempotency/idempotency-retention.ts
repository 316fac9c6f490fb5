import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';

const SWEEP_EVERY_MS = 10 * 60_000;

/** Forgets idempotency keys older than the retention period (never less than 24 h), a batch at a time. */
export class IdempotencyRetention implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(IdempotencyRetention.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly retentionHours: number,
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
      const [, deleted]: [unknown, number] = await this.dataSource.query(
        `DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
           SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1) LIMIT 10000))`,
        [this.retentionHours],
      );
      return deleted;
    } catch (error) {
      this.log.warn(`idempotency sweep failed: ${(error as Error).message}`);
      return 0;
    }
  }
}
