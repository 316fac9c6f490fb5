import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { Metrics } from './metrics.js';

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * Points `tally_db_pool_connections` at the app's PostgreSQL pool, when the app has a DataSource
 * (node-postgres' pool is the TypeORM driver's `master`).
 */
@Injectable()
export class DatabasePoolGauge implements OnApplicationBootstrap {
  constructor(
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    let dataSource: DataSource;
    try {
      dataSource = this.moduleRef.get(DataSource, { strict: false });
    } catch {
      return; // an app without a database
    }
    this.metrics.samplePoolWith(() => {
      const pool = (dataSource.driver as unknown as { master?: PgPool }).master;
      if (!dataSource.isInitialized || !pool) return undefined;
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    });
  }
}
