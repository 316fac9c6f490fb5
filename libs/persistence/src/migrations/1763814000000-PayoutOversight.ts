import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What operators need to oversee payouts (docs/admin-api.md, "Payouts").
 *
 * `payout_breakers`: each provider's circuit breaker as the worker last reported it, written on
 * every transition and failure, so the admin shows it whichever replica saw it and after a restart
 * (`retry_at`: when an open breaker lets a trial call through, i.e. turns half-open).
 * `payout_mismatches.approval_*`: a settlement above ADMIN_PAYOUT_SETTLE_APPROVAL_THRESHOLD waits
 * there, one per mismatch, until a second operator approves (or anyone rejects) it.
 */
export class PayoutOversight1763814000000 implements MigrationInterface {
  name = 'PayoutOversight1763814000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payout_breakers (
        provider              text PRIMARY KEY,
        state                 text NOT NULL CHECK (state IN ('closed', 'open', 'half-open')),
        since                 timestamptz NOT NULL,
        consecutive_failures  integer NOT NULL DEFAULT 0,
        retry_at              timestamptz,
        last_error            text,
        last_failure_at       timestamptz,
        reported_by           text NOT NULL,
        updated_at            timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON payout_breakers TO tally_app`);
    await q.query(`
      ALTER TABLE payout_mismatches
        ADD COLUMN approval_requested_by  text,
        ADD COLUMN approval_requested_at  timestamptz,
        ADD COLUMN approval_outcome       text CHECK (approval_outcome IN ('succeeded', 'failed')),
        ADD COLUMN approval_reason        text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE payout_mismatches
        DROP COLUMN approval_requested_by, DROP COLUMN approval_requested_at,
        DROP COLUMN approval_outcome, DROP COLUMN approval_reason`);
    await q.query(`DROP TABLE payout_breakers`);
  }
}
