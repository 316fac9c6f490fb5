import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Dead-lettered messages of every queue, kept for operators to inspect, replay or discard. */
export class DeadLetters1763751600000 implements MigrationInterface {
  name = 'DeadLetters1763751600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dead_letters (
        id             text PRIMARY KEY,
        dlq            text NOT NULL,
        failed_queue   text,
        message_id     text NOT NULL,
        message_type   text,
        exchange       text NOT NULL,
        routing_key    text NOT NULL,
        correlation_id text,
        tenant_id      text,
        payload        text NOT NULL,
        headers        jsonb NOT NULL DEFAULT '{}'::jsonb,
        error          text,
        error_code     text,
        attempts       integer,
        failed_at      timestamptz NOT NULL,
        status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'replayed', 'discarded')),
        replays        integer NOT NULL DEFAULT 0,
        resolved_at    timestamptz,
        resolution     text,
        created_at     timestamptz NOT NULL DEFAULT now(),
        -- The same dead-lettering seen twice (a redelivered DLQ message) is stored once.
        UNIQUE (dlq, message_id, failed_at)
      )`);
    await q.query(`CREATE INDEX dead_letters_status_idx ON dead_letters (status, id DESC)`);
    await q.query(`CREATE INDEX dead_letters_type_idx ON dead_letters (message_type, id DESC)`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON dead_letters TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dead_letters`);
  }
}
