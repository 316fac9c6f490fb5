import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Webhook endpoints, one delivery per (event, endpoint), and every attempt made. */
export class Webhooks1763744400000 implements MigrationInterface {
  name = 'Webhooks1763744400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id                     text PRIMARY KEY,
        tenant_id              text NOT NULL REFERENCES tenants (id),
        url                    text NOT NULL,
        description            text,
        event_types            text[] NOT NULL DEFAULT '{}',
        status                 text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
        disabled_reason        text,
        secret                 text NOT NULL,
        previous_secret        text,
        previous_secret_until  timestamptz,
        failing_since          timestamptz,
        created_at             timestamptz NOT NULL DEFAULT now(),
        updated_at             timestamptz NOT NULL DEFAULT now(),
        deleted_at             timestamptz
      )`);
    await q.query(
      `CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id, id DESC) WHERE deleted_at IS NULL`,
    );

    await q.query(`
      CREATE TABLE webhook_deliveries (
        id              text PRIMARY KEY,
        seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        tenant_id       text NOT NULL REFERENCES tenants (id),
        endpoint_id     text NOT NULL REFERENCES webhook_endpoints (id),
        event_id        text NOT NULL,
        event_type      text NOT NULL,
        -- Deliveries about one account reach an endpoint in order (null: no ordering key).
        account_id      text,
        payload         text NOT NULL,
        status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until     timestamptz,
        last_status     integer,
        last_error      text,
        correlation_id  text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        completed_at    timestamptz,
        UNIQUE (event_id, endpoint_id)
      )`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, account_id, seq) WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC)`,
    );

    await q.query(`
      CREATE TABLE webhook_attempts (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id      text NOT NULL REFERENCES webhook_deliveries (id),
        attempt          integer NOT NULL,
        attempted_at     timestamptz NOT NULL DEFAULT now(),
        status_code      integer,
        latency_ms       integer NOT NULL,
        response_snippet text,
        error            text
      )`);
    await q.query(`CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id)`);

    await q.query(`
      CREATE TABLE notification_emails (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id   text NOT NULL REFERENCES tenants (id),
        dedupe_key  text NOT NULL UNIQUE,
        kind        text NOT NULL,
        recipient   text NOT NULL,
        subject     text NOT NULL,
        body_text   text NOT NULL,
        body_html   text NOT NULL,
        status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
        attempts    integer NOT NULL DEFAULT 0,
        last_error  text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        sent_at     timestamptz
      )`);

    await q.query(
      `GRANT SELECT, INSERT, UPDATE ON webhook_endpoints, webhook_deliveries, notification_emails TO tally_app`,
    );
    await q.query(`GRANT SELECT, INSERT ON webhook_attempts TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE notification_emails, webhook_attempts, webhook_deliveries, webhook_endpoints`);
  }
}
