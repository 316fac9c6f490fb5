import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Time indexes for the operators' dashboard metrics (windows of minutes to a day). */
export class MetricsIndexes1763758800000 implements MigrationInterface {
  name = 'MetricsIndexes1763758800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX usage_processed_time_idx ON usage_processed (processed_at)`);
    await q.query(`CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at)`);
    await q.query(`CREATE INDEX webhook_attempts_time_idx ON webhook_attempts (attempted_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP INDEX usage_processed_time_idx, webhook_deliveries_created_idx, webhook_attempts_time_idx`,
    );
  }
}
