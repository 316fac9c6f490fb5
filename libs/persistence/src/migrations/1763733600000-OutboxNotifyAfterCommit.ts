import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * NOTIFY inside a writing transaction serialises every commit in the database (Postgres holds
 * the notification-queue lock across the commit's WAL flush). The writers now signal relays
 * after they commit, from outside any write, so the per-insert trigger goes.
 */
export class OutboxNotifyAfterCommit1763733600000 implements MigrationInterface {
  name = 'OutboxNotifyAfterCommit1763733600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER outbox_notify_after_insert ON outbox`);
    await q.query(`DROP FUNCTION outbox_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('tally_outbox', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER outbox_notify_after_insert AFTER INSERT ON outbox
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`);
  }
}
