import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A provider event whose application fails (a lock held past the statement timeout, a database
 * error) is set aside with a retry time instead of being claimed again at once: before, the same
 * event failed every pass and the dispatcher's other duties (polls, sending payouts) never ran.
 * Events of one payout still apply in the order received: a later one waits for an earlier one
 * that is set aside (the partial index by reference serves that check).
 */
export class ProviderEventRetries1763821200000 implements MigrationInterface {
  name = 'ProviderEventRetries1763821200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE provider_events
        ADD COLUMN attempts   integer NOT NULL DEFAULT 0,
        ADD COLUMN last_error text,
        ADD COLUMN retry_at   timestamptz`);
    await q.query(
      `CREATE INDEX provider_events_unapplied_reference_idx ON provider_events (reference, received_at, id)
        WHERE applied_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX provider_events_unapplied_reference_idx`);
    await q.query(
      `ALTER TABLE provider_events DROP COLUMN retry_at, DROP COLUMN last_error, DROP COLUMN attempts`,
    );
  }
}
