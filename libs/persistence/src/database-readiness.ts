import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Readiness: the database answers a trivial query. */
@Injectable()
export class DatabaseReadiness {
  readonly name = 'database';

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async check(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}
