import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-account event order. Each account counts the events written about it (`event_seq`, raised
 * by the writer under the row lock it already holds, in the event's own transaction: gap-free);
 * each event carries its number, and so does each webhook delivery made of it. The notification
 * app records which numbers of an account have arrived (`webhook_account_cursors`: all up to
 * `contiguous`, and those `ahead` of a gap, since `gap_since`), so a delivery can wait for the
 * events before it — for a bounded time, never for ever.
 */
export class WebhookAccountOrder1763778000000 implements MigrationInterface {
  name = 'WebhookAccountOrder1763778000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE accounts ADD COLUMN event_seq bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN account_seq bigint`);
    await q.query(`
      CREATE TABLE webhook_account_cursors (
        account_id  text PRIMARY KEY,
        contiguous  bigint NOT NULL DEFAULT 0,
        ahead       bigint[] NOT NULL DEFAULT '{}',
        gap_since   timestamptz
      )`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON webhook_account_cursors TO tally_app`);
    // Earlier pending deliveries to one endpoint about one account, by their number in the account.
    await q.query(
      `CREATE INDEX webhook_deliveries_account_order_idx ON webhook_deliveries (endpoint_id, account_id, account_seq)
        WHERE status = 'pending' AND account_seq IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_deliveries_account_order_idx`);
    await q.query(`DROP TABLE webhook_account_cursors`);
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN account_seq`);
    await q.query(`ALTER TABLE accounts DROP COLUMN event_seq`);
  }
}
