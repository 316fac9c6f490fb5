import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Four eyes that splitting cannot dodge: each adjustment request records whether it needed a
 * second operator, its Idempotency-Key (per requesting operator) with a fingerprint of the
 * request, and the failed transaction it re-runs; an index serves the per-operator rolling total.
 * transaction_reruns lets a transaction be re-run at most once (its primary key), whoever asks
 * and however many ask at the same time.
 */
export class AdjustmentControls1763777700000 implements MigrationInterface {
  name = 'AdjustmentControls1763777700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE adjustment_requests
        ADD COLUMN approval_required boolean,
        ADD COLUMN idempotency_key   text,
        ADD COLUMN fingerprint       text,
        ADD COLUMN rerun_of          text REFERENCES transactions (id)`);
    // Executed without a decision: it was under the threshold; everything else waited for one.
    await q.query(
      `UPDATE adjustment_requests SET approval_required = NOT (status = 'executed' AND decided_by IS NULL)`,
    );
    await q.query(`
      ALTER TABLE adjustment_requests
        ALTER COLUMN approval_required SET NOT NULL,
        ADD CONSTRAINT adjustment_requests_fingerprint_check CHECK ((idempotency_key IS NULL) = (fingerprint IS NULL))`);
    await q.query(
      `CREATE UNIQUE INDEX adjustment_requests_idempotency_key ON adjustment_requests (requested_by, idempotency_key)`,
    );
    await q.query(`
      CREATE INDEX adjustment_requests_rolling_idx ON adjustment_requests (requested_by, currency, created_at)
        WHERE status <> 'rejected'`);

    await q.query(`
      CREATE TABLE transaction_reruns (
        transaction_id        text PRIMARY KEY REFERENCES transactions (id),
        rerun_transaction_id  text UNIQUE REFERENCES transactions (id),
        adjustment_request_id text UNIQUE REFERENCES adjustment_requests (id),
        requested_by          text NOT NULL REFERENCES operators (id),
        created_at            timestamptz NOT NULL DEFAULT now()
      )`);
    // Re-runs made before: the first of each transaction is the one it had.
    await q.query(`
      INSERT INTO transaction_reruns (transaction_id, rerun_transaction_id, requested_by, created_at)
      SELECT DISTINCT ON (a.target_id) a.target_id, t.id, a.operator_id, a.created_at
        FROM audit_log a JOIN transactions t ON t.id = a.details->>'newTransactionId'
       WHERE a.action = 'transaction.rerun' AND a.operator_id IS NOT NULL
       ORDER BY a.target_id, a.id`);
    // DELETE: a rejected re-run of an adjustment leaves the failed transaction free to re-run.
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON transaction_reruns TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE transaction_reruns`);
    await q.query(`DROP INDEX adjustment_requests_rolling_idx`);
    await q.query(`DROP INDEX adjustment_requests_idempotency_key`);
    await q.query(`
      ALTER TABLE adjustment_requests
        DROP CONSTRAINT adjustment_requests_fingerprint_check,
        DROP COLUMN rerun_of, DROP COLUMN fingerprint, DROP COLUMN idempotency_key,
        DROP COLUMN approval_required`);
  }
}
