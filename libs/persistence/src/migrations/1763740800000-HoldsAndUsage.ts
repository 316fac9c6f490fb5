import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Holds (authorizations on an account's available funds, captured through the worker) and usage
 * metering: meters, the raw usage events as received, and the processed and failed stores.
 */
export class HoldsAndUsage1763740800000 implements MigrationInterface {
  name = 'HoldsAndUsage1763740800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE transactions DROP CONSTRAINT transactions_type_check`);
    await q.query(`
      ALTER TABLE transactions ADD CONSTRAINT transactions_type_check
        CHECK (type IN ('deposit', 'withdrawal', 'transfer', 'charge', 'refund', 'capture'))`);

    await q.query(`
      CREATE TABLE holds (
        id                     text PRIMARY KEY,
        tenant_id              text NOT NULL REFERENCES tenants (id),
        account_id             text NOT NULL REFERENCES accounts (id),
        amount                 bigint NOT NULL CHECK (amount > 0),
        currency               text NOT NULL,
        status                 text NOT NULL DEFAULT 'active'
                                 CHECK (status IN ('active', 'captured', 'voided', 'expired')),
        expires_at             timestamptz NOT NULL,
        -- Set when a capture is requested; the hold is then spoken for until the worker applies it.
        capture_transaction_id text REFERENCES transactions (id),
        captured_amount        bigint CHECK (captured_amount > 0 AND captured_amount <= amount),
        correlation_id         text,
        created_at             timestamptz NOT NULL DEFAULT now(),
        updated_at             timestamptz NOT NULL DEFAULT now(),
        released_at            timestamptz,
        CHECK ((status = 'captured') = (captured_amount IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX holds_account_idx ON holds (account_id, id DESC)`);
    await q.query(
      `CREATE INDEX holds_expiry_idx ON holds (expires_at) WHERE status = 'active' AND capture_transaction_id IS NULL`,
    );
    await q.query(`ALTER TABLE transactions ADD COLUMN hold_id text REFERENCES holds (id)`);
    // A hold is captured at most once.
    await q.query(
      `CREATE UNIQUE INDEX transactions_hold_captured_key ON transactions (hold_id) WHERE hold_id IS NOT NULL AND status = 'succeeded'`,
    );

    await q.query(`
      CREATE TABLE meters (
        id          text PRIMARY KEY,
        tenant_id   text NOT NULL REFERENCES tenants (id),
        event_type  text NOT NULL,
        aggregation text NOT NULL CHECK (aggregation IN ('count', 'sum')),
        property    text,
        unit_price  bigint NOT NULL CHECK (unit_price > 0),
        currency    text NOT NULL CHECK (currency ~ '^[A-Z][A-Z0-9]{2,9}$'),
        created_at  timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, event_type),
        CHECK ((aggregation = 'sum') = (property IS NOT NULL))
      )`);

    // The raw events, as received: the audit trail. Only their processing status ever changes.
    await q.query(`
      CREATE TABLE usage_events (
        tenant_id      text NOT NULL REFERENCES tenants (id),
        id             text NOT NULL,
        type           text NOT NULL,
        account_id     text REFERENCES accounts (id),
        occurred_at    timestamptz NOT NULL,
        properties     jsonb NOT NULL DEFAULT '{}'::jsonb,
        api_key_id     text,
        correlation_id text,
        received_at    timestamptz NOT NULL DEFAULT now(),
        status         text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed')),
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE INDEX usage_events_received_idx ON usage_events (tenant_id, received_at DESC)`);
    await q.query(
      `CREATE INDEX usage_events_account_idx ON usage_events (account_id, occurred_at) WHERE account_id IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE usage_processed (
        tenant_id      text NOT NULL,
        event_id       text NOT NULL,
        type           text NOT NULL,
        account_id     text REFERENCES accounts (id),
        occurred_at    timestamptz NOT NULL,
        category       text NOT NULL,
        worker_id      text NOT NULL,
        processed_at   timestamptz NOT NULL DEFAULT now(),
        meter_id       text REFERENCES meters (id),
        quantity       bigint,
        amount         bigint,
        currency       text,
        billing_status text NOT NULL CHECK (billing_status IN ('charged', 'unbilled', 'not_metered')),
        unbilled_code  text,
        unbilled_reason text,
        transaction_id text UNIQUE REFERENCES transactions (id),
        PRIMARY KEY (tenant_id, event_id),
        FOREIGN KEY (tenant_id, event_id) REFERENCES usage_events (tenant_id, id),
        CHECK ((billing_status = 'not_metered') = (meter_id IS NULL)),
        CHECK ((billing_status = 'unbilled') = (unbilled_code IS NOT NULL))
      )`);
    await q.query(
      `CREATE INDEX usage_processed_account_idx ON usage_processed (account_id, occurred_at) WHERE meter_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX usage_processed_tenant_idx ON usage_processed (tenant_id, occurred_at)`);

    await q.query(`
      CREATE TABLE usage_failed (
        tenant_id   text NOT NULL,
        event_id    text NOT NULL,
        code        text NOT NULL,
        reason      text NOT NULL,
        worker_id   text NOT NULL,
        failed_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, event_id),
        FOREIGN KEY (tenant_id, event_id) REFERENCES usage_events (tenant_id, id)
      )`);
    await q.query(`CREATE INDEX usage_failed_time_idx ON usage_failed (tenant_id, failed_at DESC)`);

    await q.query(
      `GRANT SELECT, INSERT, UPDATE ON holds, meters, usage_events, usage_processed TO tally_app`,
    );
    await q.query(`GRANT SELECT, INSERT ON usage_failed TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE usage_failed, usage_processed, usage_events, meters`);
    await q.query(`ALTER TABLE transactions DROP COLUMN hold_id`);
    await q.query(`DROP TABLE holds`);
    await q.query(`ALTER TABLE transactions DROP CONSTRAINT transactions_type_check`);
    await q.query(`
      ALTER TABLE transactions ADD CONSTRAINT transactions_type_check
        CHECK (type IN ('deposit', 'withdrawal', 'transfer', 'charge', 'refund'))`);
  }
}
