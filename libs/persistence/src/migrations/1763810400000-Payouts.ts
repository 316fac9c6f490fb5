import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Withdrawals paid out through a payment provider (docs/architecture.md, "Payouts").
 *
 * `payouts`: one row per withdrawal the provider pays, written with the withdrawal's hold when the
 * worker applies it, and driven from there by the worker's dispatcher — outside any transaction
 * that holds row locks while it calls the provider. A dispatcher claims due rows by a lease
 * (`lease_until`), so several workers share them and a crashed one's rows come back; the
 * transaction id is the provider's idempotency key, so a call repeated after a crash pays once.
 * `provider_events`: the provider's webhooks as received (the gateway writes them, its primary
 * key makes a repeated event a no-op); the worker applies them. `payout_mismatches`: what
 * reconciliation found differs between Tally and the provider's report, one open row per payout,
 * until an operator resolves it.
 */
export class Payouts1763810400000 implements MigrationInterface {
  name = 'Payouts1763810400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payouts (
        transaction_id      text PRIMARY KEY REFERENCES transactions (id),
        tenant_id           text NOT NULL REFERENCES tenants (id),
        account_id          text NOT NULL REFERENCES accounts (id),
        hold_id             text NOT NULL REFERENCES holds (id),
        amount              bigint NOT NULL CHECK (amount > 0),
        currency            text NOT NULL,
        status              text NOT NULL DEFAULT 'queued'
                              CHECK (status IN ('queued', 'accepted', 'unknown', 'succeeded', 'failed')),
        attempts            integer NOT NULL DEFAULT 0,
        next_attempt_at     timestamptz NOT NULL DEFAULT now(),
        lease_until         timestamptz,
        provider_payout_id  text,
        outcome_due_at      timestamptz,
        last_error          text,
        created_at          timestamptz NOT NULL DEFAULT now(),
        updated_at          timestamptz NOT NULL DEFAULT now(),
        settled_at          timestamptz
      )`);
    await q.query(`CREATE INDEX payouts_due_idx ON payouts (next_attempt_at) WHERE status = 'queued'`);
    await q.query(
      `CREATE INDEX payouts_outcome_due_idx ON payouts (outcome_due_at) WHERE status = 'accepted'`,
    );
    await q.query(`CREATE INDEX payouts_unknown_idx ON payouts (updated_at) WHERE status = 'unknown'`);
    await q.query(`CREATE INDEX payouts_updated_idx ON payouts (updated_at)`);
    await q.query(`
      CREATE TABLE provider_events (
        id            text PRIMARY KEY,
        type          text NOT NULL,
        payout_id     text,
        reference     text,
        status        text,
        payload       jsonb NOT NULL,
        received_at   timestamptz NOT NULL DEFAULT now(),
        applied_at    timestamptz
      )`);
    await q.query(
      `CREATE INDEX provider_events_unapplied_idx ON provider_events (received_at) WHERE applied_at IS NULL`,
    );
    await q.query(`
      CREATE TABLE payout_mismatches (
        transaction_id      text PRIMARY KEY REFERENCES payouts (transaction_id),
        tenant_id           text NOT NULL REFERENCES tenants (id),
        kind                text NOT NULL
                              CHECK (kind IN ('paid_but_failed', 'failed_but_succeeded', 'unknown_to_provider')),
        tally_status        text NOT NULL,
        provider_status     text,
        provider_payout_id  text,
        found_at            timestamptz NOT NULL DEFAULT now(),
        resolved_at         timestamptz,
        resolved_by         text,
        resolution          text
      )`);
    await q.query(
      `CREATE INDEX payout_mismatches_open_idx ON payout_mismatches (found_at) WHERE resolved_at IS NULL`,
    );
    await q.query(`GRANT SELECT, INSERT, UPDATE ON payouts, provider_events, payout_mismatches TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE payout_mismatches`);
    await q.query(`DROP TABLE provider_events`);
    await q.query(`DROP TABLE payouts`);
  }
}
