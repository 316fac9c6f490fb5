import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Transactional outbox and consumer inbox: the two tables every guarantee rests on. */
export class MessagingBackbone1763726400000 implements MigrationInterface {
  name = 'MessagingBackbone1763726400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id      text        NOT NULL UNIQUE,
        exchange        text        NOT NULL,
        routing_key     text        NOT NULL,
        message_type    text        NOT NULL,
        schema_version  integer     NOT NULL DEFAULT 1,
        payload         jsonb       NOT NULL,
        headers         jsonb       NOT NULL DEFAULT '{}'::jsonb,
        correlation_id  text,
        created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
        published_at    timestamptz,
        publish_attempts integer    NOT NULL DEFAULT 0,
        last_error      text
      )`);
    // The relay only ever reads unpublished rows; keep that index small.
    await q.query(`CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL`);
    await q.query(
      `CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL`,
    );
    // One NOTIFY per inserting statement (not per row) wakes the relays; polling remains the source of truth.
    await q.query(`
      CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('tally_outbox', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER outbox_notify_after_insert AFTER INSERT ON outbox
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`);

    await q.query(`
      CREATE TABLE inbox (
        consumer     text        NOT NULL,
        message_id   text        NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
      )`);
    await q.query(`CREATE INDEX inbox_processed_at_idx ON inbox (processed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE inbox`);
    await q.query(`DROP TRIGGER outbox_notify_after_insert ON outbox`);
    await q.query(`DROP FUNCTION outbox_notify()`);
    await q.query(`DROP TABLE outbox`);
  }
}
