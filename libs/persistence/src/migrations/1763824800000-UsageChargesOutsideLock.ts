import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A usage batch writes its processed rows before the ledger locks the wallets, each priced row
 * naming the charge transaction the ledger will then write under that id: so the row's foreign key
 * to `transactions` is checked at the commit (DEFERRABLE INITIALLY DEFERRED). A charge the wallet
 * cannot pay sets its row's transaction back to NULL before the commit, and nothing is checked.
 *
 * Outbox payloads are compressed with lz4 where the server has it (a batch's `usage.outcomes` is
 * about 240 KB of JSON, written while the wallets are locked): 1.2 ms a row against 3.1 with pglz
 * (docs/performance.md). Only rows written from now on; pglz rows stay readable.
 */
export class UsageChargesOutsideLock1763824800000 implements MigrationInterface {
  name = 'UsageChargesOutsideLock1763824800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE usage_processed
        DROP CONSTRAINT usage_processed_transaction_id_fkey,
        ADD CONSTRAINT usage_processed_transaction_id_fkey FOREIGN KEY (transaction_id)
          REFERENCES transactions (id) DEFERRABLE INITIALLY DEFERRED`);
    if (await lz4Available(q)) await q.query(`ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION default`);
    await q.query(`
      ALTER TABLE usage_processed
        DROP CONSTRAINT usage_processed_transaction_id_fkey,
        ADD CONSTRAINT usage_processed_transaction_id_fkey FOREIGN KEY (transaction_id)
          REFERENCES transactions (id)`);
  }
}

/** Whether this server was built with lz4 (it is an option of PostgreSQL's build). */
async function lz4Available(q: QueryRunner): Promise<boolean> {
  const rows: { ok: boolean }[] = await q.query(
    `SELECT 'lz4' = ANY (enumvals) AS ok FROM pg_settings WHERE name = 'default_toast_compression'`,
  );
  return rows[0]?.ok === true;
}
