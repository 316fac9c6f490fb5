import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenants, API keys, accounts, transactions, the append-only ledger and idempotency records; and
 * the `tally_app` role the apps connect as. The role may not change or remove ledger entries;
 * triggers refuse it to everyone else too (UPDATE, DELETE and TRUNCATE).
 */
export class Ledger1763730000000 implements MigrationInterface {
  name = 'Ledger1763730000000';

  async up(q: QueryRunner): Promise<void> {
    // Roles are cluster-wide; several databases (and concurrent test runs) share this one.
    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tally_app') THEN
          CREATE ROLE tally_app LOGIN;
        END IF;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);

    await q.query(`
      CREATE TABLE tenants (
        id                 text PRIMARY KEY,
        name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
        notification_email text,
        created_at         timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE api_keys (
        id           text PRIMARY KEY,
        tenant_id    text NOT NULL REFERENCES tenants (id),
        prefix       text NOT NULL,
        key_hash     bytea NOT NULL UNIQUE,
        name         text,
        created_at   timestamptz NOT NULL DEFAULT now(),
        revoked_at   timestamptz,
        last_used_at timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id)`);

    await q.query(`
      CREATE TABLE accounts (
        id                    text PRIMARY KEY,
        tenant_id             text NOT NULL REFERENCES tenants (id),
        kind                  text NOT NULL CHECK (kind IN ('customer', 'external', 'revenue')),
        currency              text NOT NULL CHECK (currency ~ '^[A-Z][A-Z0-9]{2,9}$'),
        external_ref          text,
        status                text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen')),
        posted                bigint NOT NULL DEFAULT 0,
        held                  bigint NOT NULL DEFAULT 0 CHECK (held >= 0),
        version               bigint NOT NULL DEFAULT 0,
        low_balance_threshold bigint CHECK (low_balance_threshold >= 0),
        metadata              jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at            timestamptz NOT NULL DEFAULT now(),
        updated_at            timestamptz NOT NULL DEFAULT now(),
        -- The last line of defence: a customer's available balance never goes below zero.
        CONSTRAINT accounts_customer_covered CHECK (kind <> 'customer' OR posted - held >= 0)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX accounts_external_ref_key ON accounts (tenant_id, external_ref) WHERE external_ref IS NOT NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX accounts_system_key ON accounts (tenant_id, currency, kind) WHERE kind <> 'customer'`,
    );
    await q.query(
      `CREATE INDEX accounts_tenant_idx ON accounts (tenant_id, id DESC) WHERE kind = 'customer'`,
    );

    await q.query(`
      CREATE TABLE transactions (
        id                     text PRIMARY KEY,
        tenant_id              text NOT NULL REFERENCES tenants (id),
        type                   text NOT NULL CHECK (type IN ('deposit', 'withdrawal', 'transfer', 'charge', 'refund')),
        status                 text NOT NULL CHECK (status IN ('pending', 'processing', 'succeeded', 'failed')),
        amount                 bigint NOT NULL CHECK (amount > 0),
        currency               text NOT NULL,
        source_account_id      text REFERENCES accounts (id),
        destination_account_id text REFERENCES accounts (id),
        parent_transaction_id  text REFERENCES transactions (id),
        refunded_amount        bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
        description            text,
        metadata               jsonb NOT NULL DEFAULT '{}'::jsonb,
        failure_code           text,
        failure_message        text,
        correlation_id         text,
        created_at             timestamptz NOT NULL DEFAULT now(),
        updated_at             timestamptz NOT NULL DEFAULT now(),
        completed_at           timestamptz
      )`);
    await q.query(`CREATE INDEX transactions_tenant_idx ON transactions (tenant_id, id DESC)`);
    await q.query(
      `CREATE INDEX transactions_source_idx ON transactions (source_account_id, id DESC) WHERE source_account_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX transactions_destination_idx ON transactions (destination_account_id, id DESC) WHERE destination_account_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX transactions_parent_idx ON transactions (parent_transaction_id) WHERE parent_transaction_id IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE ledger_entries (
        seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id             text NOT NULL UNIQUE,
        tenant_id      text NOT NULL REFERENCES tenants (id),
        transaction_id text NOT NULL REFERENCES transactions (id),
        account_id     text NOT NULL REFERENCES accounts (id),
        amount         bigint NOT NULL CHECK (amount <> 0),
        balance_after  bigint NOT NULL,
        currency       text NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, seq DESC)`);
    await q.query(`CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id)`);
    await q.query(`
      CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger_entries is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER ledger_entries_no_update_delete BEFORE UPDATE OR DELETE ON ledger_entries
      FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()`);
    await q.query(`
      CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
      FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only()`);

    await q.query(`
      CREATE TABLE idempotency_keys (
        tenant_id        text NOT NULL REFERENCES tenants (id),
        key              text NOT NULL,
        fingerprint      text NOT NULL,
        response_status  integer NOT NULL,
        response_body    text NOT NULL,
        response_headers jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`);

    // The apps' role: everything they need, and no way to rewrite the ledger.
    await q.query(`GRANT USAGE ON SCHEMA public TO tally_app`);
    await q.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, api_keys, accounts, transactions, idempotency_keys, outbox, inbox TO tally_app`,
    );
    await q.query(`GRANT SELECT, INSERT ON ledger_entries TO tally_app`);
    await q.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys, ledger_entries, transactions, accounts, api_keys, tenants`);
    await q.query(`DROP FUNCTION ledger_entries_append_only()`);
    await q.query(`REVOKE ALL ON outbox, inbox FROM tally_app`);
    // up granted every sequence there was then: the outbox's and the migrations table's.
    await q.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM tally_app`);
    await q.query(`REVOKE USAGE ON SCHEMA public FROM tally_app`);
  }
}
