import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { LedgerStore } from '#ledger';
import {
  dropDatabase,
  migrateDatabase,
  TransactionRepository,
  UsageRepository,
  type TransactionRecord,
} from '#persistence';
import { capturedStatements, openDataSource, planNodes, separateDatabase } from '#test-support';

// A database of its own: whether an update can stay on its page depends on what else is there.
describe('ledger schema: outcomes written in place, a hold captured once', () => {
  const { ownerUrl, appUrl } = separateDatabase('schema');
  let superuser: pg.Client;
  let db: DataSource;

  beforeAll(async () => {
    await migrateDatabase({
      DATABASE_MIGRATION_URL: ownerUrl,
      DATABASE_STATEMENT_TIMEOUT_MS: 60_000,
    });
    superuser = new pg.Client({ connectionString: ownerUrl });
    await superuser.connect();
    await superuser.query(`
      INSERT INTO tenants (id, name) VALUES ('ten_1', 't');
      INSERT INTO accounts (id, tenant_id, kind, currency, posted) VALUES
        ('acc_a', 'ten_1', 'customer', 'USD', 100), ('acc_b', 'ten_1', 'customer', 'USD', 0),
        ('acc_ext', 'ten_1', 'external', 'USD', -100);
      INSERT INTO transactions (id, tenant_id, type, status, amount, currency, source_account_id, destination_account_id)
        VALUES ('txn_1', 'ten_1', 'transfer', 'pending', 10, 'USD', 'acc_a', 'acc_b'),
               ('txn_2', 'ten_1', 'transfer', 'pending', 10, 'USD', 'acc_a', 'acc_b');
      INSERT INTO holds (id, tenant_id, account_id, amount, currency, expires_at)
        VALUES ('hold_1', 'ten_1', 'acc_a', 10, 'USD', now() + interval '1 hour');`);
    db = await openDataSource(2, appUrl);
  });

  afterAll(async () => {
    await db.destroy();
    await superuser.end();
    await dropDatabase(ownerUrl);
  });

  /** Updates and heap-only updates of `table` in the transaction so far. */
  const updates = async (m: DataSource['manager'], table: string) => {
    const [row] = await m.query(
      `SELECT n_tup_upd::int AS updated, n_tup_hot_upd::int AS hot FROM pg_stat_xact_user_tables WHERE relname = $1`,
      [table],
    );
    return row as { updated: number; hot: number };
  };

  it("the worker's outcome and balance writes are heap-only updates: no index entry is added", async () => {
    let counted: Record<string, { updated: number; hot: number }> = {};
    // Rolled back: the rows stay as they were for the next test.
    const rollBack = new Error('roll back');
    await assert.rejects(
      db.transaction(async (m) => {
        const transactions = new TransactionRepository();
        const [pending] = (await transactions.lockMany(m, ['txn_1'])).values();
        const failed: TransactionRecord = {
          ...pending,
          status: 'failed',
          failureCode: 'insufficient_funds',
          failureMessage: 'not enough',
          completedAt: new Date(),
        };
        await transactions.finishMany(m, [failed]);
        await transactions.finishMany(m, [
          { ...failed, status: 'succeeded', failureCode: null, failureMessage: null },
        ]);
        await new LedgerStore().setBalances(m, [
          { accountId: 'acc_a', posted: 90n, held: 0n },
          { accountId: 'acc_b', posted: 10n, held: 0n },
        ]);
        counted = { transactions: await updates(m, 'transactions'), accounts: await updates(m, 'accounts') };
        throw rollBack;
      }),
      rollBack,
    );
    assert.deepEqual(counted, { transactions: { updated: 2, hot: 2 }, accounts: { updated: 2, hot: 2 } });
  });

  it('a hold is captured by one succeeded capture at most, whichever way the row gets there', async () => {
    const capture = (id: string, status: string) =>
      superuser.query(
        `INSERT INTO transactions (id, tenant_id, type, status, amount, currency, source_account_id, hold_id)
         VALUES ($1, 'ten_1', 'capture', $2, 10, 'USD', 'acc_a', 'hold_1')`,
        [id, status],
      );
    // A failed capture does not use the hold up; a pending one neither.
    await capture('txn_c1', 'failed');
    await capture('txn_c2', 'pending');
    await db.query(`UPDATE transactions SET status = 'succeeded' WHERE id = 'txn_c2'`);
    assert.deepEqual(await db.query(`SELECT hold_id, transaction_id FROM hold_captures`), [
      { hold_id: 'hold_1', transaction_id: 'txn_c2' },
    ]);

    // A second success, by update or by insert, is refused, even to the superuser.
    await assert.rejects(
      db.query(`UPDATE transactions SET status = 'succeeded' WHERE id = 'txn_c1'`),
      /hold_captures_pkey/,
    );
    await assert.rejects(capture('txn_c3', 'succeeded'), /hold_captures_pkey/);
    // Writing the same outcome again is not a second capture.
    await db.query(`UPDATE transactions SET status = 'succeeded', updated_at = now() WHERE id = 'txn_c2'`);

    // The record follows the row: undone, the hold can be captured by another.
    await superuser.query(`UPDATE transactions SET status = 'failed' WHERE id = 'txn_c2'`);
    await db.query(`UPDATE transactions SET status = 'succeeded' WHERE id = 'txn_c1'`);
    assert.deepEqual(await db.query(`SELECT hold_id, transaction_id FROM hold_captures`), [
      { hold_id: 'hold_1', transaction_id: 'txn_c1' },
    ]);
  });

  it("a processed usage event's charge transaction is checked at the commit, not when the row is written", async () => {
    await superuser.query(`
      INSERT INTO meters (id, tenant_id, event_type, aggregation, unit_price, currency)
        VALUES ('mtr_1', 'ten_1', 'api', 'count', 5, 'USD');
      INSERT INTO usage_events (tenant_id, id, type, account_id, occurred_at)
        VALUES ('ten_1', 'evt_1', 'api', 'acc_a', now()), ('ten_1', 'evt_2', 'api', 'acc_a', now());`);
    const processed = (m: DataSource['manager'], event: string, transaction: string | null) =>
      m.query(
        `INSERT INTO usage_processed (tenant_id, event_id, type, account_id, occurred_at, category, worker_id,
             meter_id, quantity, amount, currency, billing_status, unbilled_code, transaction_id)
         VALUES ('ten_1', $1, 'api', 'acc_a', now(), 'standard', 'w', 'mtr_1', 1, 5, 'USD', $2, $3, $4)`,
        [event, transaction ? 'charged' : 'unbilled', transaction ? null : 'insufficient_funds', transaction],
      );
    const transactionRow = (m: DataSource['manager'], id: string) =>
      m.query(
        `INSERT INTO transactions (id, tenant_id, type, status, amount, currency, source_account_id)
         VALUES ($1, 'ten_1', 'charge', 'succeeded', 5, 'USD', 'acc_a')`,
        [id],
      );

    // Written first, the charge after (the worker's order): accepted.
    await db.transaction(async (m) => {
      await processed(m, 'evt_1', 'txn_u1');
      await transactionRow(m, 'txn_u1');
    });
    // A transaction id set back to NULL before the commit (a charge the wallet could not pay): accepted.
    await db.transaction(async (m) => {
      await processed(m, 'evt_2', 'txn_u2');
      await m.query(
        `UPDATE usage_processed SET billing_status = 'unbilled', unbilled_code = 'insufficient_funds',
                transaction_id = NULL WHERE event_id = 'evt_2'`,
      );
    });
    // A charge that never comes: the commit is refused, and nothing of it stays.
    await superuser.query(`DELETE FROM usage_processed WHERE event_id = 'evt_2'`);
    await assert.rejects(
      db.transaction((m) => processed(m, 'evt_2', 'txn_missing')),
      /usage_processed_transaction_id_fkey/,
    );
    assert.deepEqual(
      await db.query(`SELECT event_id, transaction_id FROM usage_processed ORDER BY event_id`),
      [{ event_id: 'evt_1', transaction_id: 'txn_u1' }],
    );
  });

  it("a ledger entry's account belongs to the entry's tenant", async () => {
    await superuser.query(`
      INSERT INTO tenants (id, name) VALUES ('ten_2', 'other');
      INSERT INTO transactions (id, tenant_id, type, status, amount, currency, destination_account_id)
        VALUES ('txn_t2', 'ten_2', 'deposit', 'pending', 10, 'USD', 'acc_b');`);
    const entry = (id: string, tenant: string, account: string) =>
      db.query(
        `INSERT INTO ledger_entries (id, tenant_id, transaction_id, account_id, amount, balance_after, currency)
         VALUES ($1, $2, 'txn_t2', $3, 10, 10, 'USD')`,
        [id, tenant, account],
      );
    // Tenant 2 naming tenant 1's account, an account that does not exist, a tenant that does not.
    await assert.rejects(entry('ent_x1', 'ten_2', 'acc_b'), /ledger_entries_account_of_tenant_fkey/);
    await assert.rejects(entry('ent_x2', 'ten_1', 'acc_nope'), /ledger_entries_account_of_tenant_fkey/);
    await assert.rejects(entry('ent_x3', 'ten_nope', 'acc_b'), /ledger_entries_account_of_tenant_fkey/);
    await entry('ent_ok', 'ten_1', 'acc_b');
    assert.deepEqual(await db.query(`SELECT id FROM ledger_entries WHERE transaction_id = 'txn_t2'`), [
      { id: 'ent_ok' },
    ]);
  });

  it("a usage event's account belongs to the event's tenant; an event may have none", async () => {
    await superuser.query(`INSERT INTO tenants (id, name) VALUES ('ten_3', 'third')`);
    const event = (tenant: string, id: string, account: string | null) =>
      db.query(
        `INSERT INTO usage_events (tenant_id, id, type, account_id, occurred_at) VALUES ($1, $2, 'a', $3, now())`,
        [tenant, id, account],
      );
    // Tenant 3 naming tenant 1's account (the keys before this accepted it), an account that does not exist.
    await assert.rejects(event('ten_3', 'ev_x1', 'acc_b'), /usage_events_account_of_tenant_fkey/);
    await assert.rejects(event('ten_1', 'ev_x2', 'acc_nope'), /usage_events_account_of_tenant_fkey/);
    await event('ten_1', 'ev_ok', 'acc_b');
    await event('ten_3', 'ev_none', null);
    assert.deepEqual(
      await db.query(`SELECT tenant_id, id FROM usage_events WHERE id LIKE 'ev\\_%' ORDER BY id`),
      [
        { tenant_id: 'ten_3', id: 'ev_none' },
        { tenant_id: 'ten_1', id: 'ev_ok' },
      ],
    );
  });

  it('one partial index pages the open events by status, and by status and type without reading the others', async () => {
    // Mostly processed events, and failed ones of two types: a page of one type's failures must
    // test the type on the index entries, not on rows fetched from the table.
    await superuser.query(`
      INSERT INTO tenants (id, name) VALUES ('ten_4', 'lists');
      INSERT INTO usage_events (tenant_id, id, type, occurred_at, received_at, status)
      SELECT 'ten_4', 'le-' || lpad(g::text, 5, '0'), CASE WHEN g % 2 = 0 THEN 'even' ELSE 'odd' END, now(),
             timestamptz '2026-11-01' + g * interval '1 second',
             CASE WHEN g % 20 = 0 THEN 'failed' WHEN g % 20 = 1 THEN 'received' ELSE 'processed' END
        FROM generate_series(1, 4000) g;
      ANALYZE usage_events;`);
    const usage = new UsageRepository();
    const planOf = async (q: { status: 'failed' | 'received'; type?: string }) => {
      const [sent] = await capturedStatements((m) => usage.list(m, 'ten_4', { limit: 21, ...q }));
      const scans = (await planNodes(db, sent)).filter((n) => n['Index Name']?.startsWith('usage_events'));
      return scans.map((n) => ({
        scan: n['Node Type'],
        index: n['Index Name'],
        typeTested: (n['Index Cond'] ?? '').includes('type ='),
        filter: n.Filter ?? null,
      }));
    };
    const open = { scan: 'Index Scan', index: 'usage_events_open_list_idx', filter: null };
    assert.deepEqual(await planOf({ status: 'failed', type: 'even' }), [{ ...open, typeTested: true }]);
    assert.deepEqual(await planOf({ status: 'received' }), [{ ...open, typeTested: false }]);
    // And the page is the newest failures of that type, in order.
    const page = await usage.list(db.manager, 'ten_4', { limit: 3, status: 'failed', type: 'even' });
    assert.deepEqual(
      page.map((e) => e.id),
      ['le-04000', 'le-03980', 'le-03960'],
    );
  });

  it('a database the migrations create compares text byte by byte (the C collation)', async () => {
    assert.deepEqual(
      await db.query(`SELECT datcollate FROM pg_database WHERE datname = current_database()`),
      [{ datcollate: 'C' }],
    );
  });

  it("the apps' role reads hold_captures but cannot write it", async () => {
    await assert.rejects(db.query(`DELETE FROM hold_captures`), /permission denied/);
    await assert.rejects(
      db.query(`INSERT INTO hold_captures (hold_id, transaction_id) VALUES ('hold_1', 'txn_2')`),
      /permission denied/,
    );
  });
});
