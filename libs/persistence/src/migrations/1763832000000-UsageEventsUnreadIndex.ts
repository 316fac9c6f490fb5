import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops `usage_events_account_idx` (account_id, occurred_at): no query reads it (an account's events
 * are listed through `usage_events_account_list_idx`, which leads with the tenant, and usage by
 * account is summed from `usage_processed`), yet every accepted event wrote an entry to it and the
 * worker's claim wrote another (a status change is not heap-only). Six indexes remain.
 */
export class UsageEventsUnreadIndex1763832000000 implements MigrationInterface {
  name = 'UsageEventsUnreadIndex1763832000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX usage_events_account_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX usage_events_account_idx ON usage_events (account_id, occurred_at) WHERE account_id IS NOT NULL`,
    );
  }
}
