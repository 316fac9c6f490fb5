import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recording a transaction's outcome becomes a heap-only (HOT) update: no index entries.
 *
 * Postgres can update a row in place on its page, touching no index, only when no indexed column
 * changes, and a column in a partial index's predicate counts as indexed. `status` was one, in
 * `transactions_hold_captured_key` (a hold is captured at most once), so every outcome inserted a
 * new entry into each of the table's indexes. That guarantee now lives in `hold_captures`, one row
 * per captured hold, kept by triggers that fire only for captures. And pages keep a fifth free
 * so the new version of a row fits next to the old one.
 */
export class HotTransactionOutcomes1763769600000 implements MigrationInterface {
  name = 'HotTransactionOutcomes1763769600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE hold_captures (
        hold_id        text PRIMARY KEY REFERENCES holds (id),
        transaction_id text NOT NULL REFERENCES transactions (id)
      )`);
    await q.query(`
      INSERT INTO hold_captures (hold_id, transaction_id)
      SELECT hold_id, id FROM transactions WHERE hold_id IS NOT NULL AND status = 'succeeded'`);
    // Runs as the schema owner: the apps' role can read hold_captures but not write it.
    await q.query(`
      CREATE FUNCTION transactions_hold_captures() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND OLD.hold_id IS NOT NULL AND OLD.status = 'succeeded' THEN
          DELETE FROM hold_captures WHERE hold_id = OLD.hold_id AND transaction_id = OLD.id;
        END IF;
        IF NEW.hold_id IS NOT NULL AND NEW.status = 'succeeded' THEN
          -- A second succeeded capture of one hold fails here, on the primary key.
          INSERT INTO hold_captures (hold_id, transaction_id) VALUES (NEW.hold_id, NEW.id);
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`REVOKE ALL ON FUNCTION transactions_hold_captures() FROM PUBLIC`);
    // WHEN clauses: for a transaction with no hold the triggers cost an expression, not a call.
    await q.query(`
      CREATE TRIGGER transactions_hold_captures_insert AFTER INSERT ON transactions
      FOR EACH ROW WHEN (NEW.hold_id IS NOT NULL AND NEW.status = 'succeeded')
      EXECUTE FUNCTION transactions_hold_captures()`);
    await q.query(`
      CREATE TRIGGER transactions_hold_captures_update AFTER UPDATE OF status, hold_id ON transactions
      FOR EACH ROW WHEN ((OLD.hold_id IS NOT NULL OR NEW.hold_id IS NOT NULL)
                         AND (OLD.status IS DISTINCT FROM NEW.status OR OLD.hold_id IS DISTINCT FROM NEW.hold_id))
      EXECUTE FUNCTION transactions_hold_captures()`);
    await q.query(`DROP INDEX transactions_hold_captured_key`);
    await q.query(`CREATE INDEX transactions_hold_idx ON transactions (hold_id) WHERE hold_id IS NOT NULL`);
    await q.query(`GRANT SELECT ON hold_captures TO tally_app`);
    // New pages only; existing ones keep what they have.
    await q.query(`ALTER TABLE transactions SET (fillfactor = 60)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE transactions RESET (fillfactor)`);
    await q.query(`DROP INDEX transactions_hold_idx`);
    await q.query(
      `CREATE UNIQUE INDEX transactions_hold_captured_key ON transactions (hold_id) WHERE hold_id IS NOT NULL AND status = 'succeeded'`,
    );
    await q.query(`DROP TRIGGER transactions_hold_captures_update ON transactions`);
    await q.query(`DROP TRIGGER transactions_hold_captures_insert ON transactions`);
    await q.query(`DROP FUNCTION transactions_hold_captures()`);
    await q.query(`DROP TABLE hold_captures`);
  }
}
