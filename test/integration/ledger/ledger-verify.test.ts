import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import pg from 'pg';
import { dropDatabase, migrateDatabase } from '#persistence';
import { separateDatabase, tallyCli } from '#test-support';

// A database of its own, so breaking it cannot disturb the rest of the run.
describe('ledger:verify and the append-only ledger', () => {
  const { ownerUrl, appUrl } = separateDatabase('verify');
  let superuser: pg.Client;
  let appRole: pg.Client;

  beforeAll(async () => {
    await migrateDatabase({
      DATABASE_MIGRATION_URL: ownerUrl,
      DATABASE_STATEMENT_TIMEOUT_MS: 60_000,
    });
    superuser = new pg.Client({ connectionString: ownerUrl });
    appRole = new pg.Client({ connectionString: appUrl });
    await superuser.connect();
    await appRole.connect();
    // A consistent little ledger: 100 deposited into a customer account from the outside world.
    await superuser.query(`
      INSERT INTO tenants (id, name) VALUES ('ten_1', 't');
      INSERT INTO accounts (id, tenant_id, kind, currency, posted) VALUES
        ('acc_ext', 'ten_1', 'external', 'USD', -100), ('acc_cust', 'ten_1', 'customer', 'USD', 100);
      INSERT INTO transactions (id, tenant_id, type, status, amount, currency, destination_account_id)
        VALUES ('txn_1', 'ten_1', 'deposit', 'succeeded', 100, 'USD', 'acc_cust');
      INSERT INTO ledger_entries (id, tenant_id, transaction_id, account_id, amount, balance_after, currency) VALUES
        ('ent_1', 'ten_1', 'txn_1', 'acc_ext', -100, -100, 'USD'),
        ('ent_2', 'ten_1', 'txn_1', 'acc_cust', 100, 100, 'USD');`);
  });

  afterAll(async () => {
    await superuser.end();
    await appRole.end();
    await dropDatabase(ownerUrl);
  });

  const verify = () => tallyCli(['ledger:verify'], { DATABASE_URL: appUrl });

  it('passes on a consistent ledger and says what it checked', async () => {
    const result = await verify();
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /1 transactions, 2 entries, 2 accounts/);
    assert.match(result.stdout, /ok {4}every transaction's entries sum to zero/);
    assert.match(result.stdout, /ledger:verify passed/);
  });

  it("the app's role cannot change or remove entries; the triggers refuse even the superuser", async () => {
    for (const sql of [
      `UPDATE ledger_entries SET amount = 1 WHERE id = 'ent_2'`,
      `DELETE FROM ledger_entries WHERE id = 'ent_2'`,
      `TRUNCATE ledger_entries`,
    ]) {
      await assert.rejects(appRole.query(sql), /permission denied/, `app role: ${sql}`);
      await assert.rejects(superuser.query(sql), /append-only/, `superuser: ${sql}`);
    }
    const { rows } = await appRole.query(`SELECT count(*)::int AS n FROM ledger_entries`);
    assert.equal(rows[0].n, 2);
  });

  it('fails, naming the broken invariants, when balances are edited behind the ledger', async () => {
    await superuser.query(`UPDATE accounts SET posted = posted + 5 WHERE id = 'acc_cust'`);
    const result = await verify();
    assert.equal(result.code, 1);
    assert.match(result.stdout, /FAIL {2}every account balance equals the sum of its entries \(1\)/);
    assert.match(result.stdout, /FAIL {2}every account balance equals its last entry's balance_after/);
    assert.match(result.stdout, /FAIL {2}each tenant's accounts sum to zero per currency/);
    assert.match(result.stdout, /ledger:verify FAILED/);
    await superuser.query(`UPDATE accounts SET posted = posted - 5 WHERE id = 'acc_cust'`);
  });

  it('checks held balances against the active holds, and billed usage against its charges', async () => {
    await superuser.query(`
      INSERT INTO holds (id, tenant_id, account_id, amount, currency, expires_at)
        VALUES ('hold_1', 'ten_1', 'acc_cust', 10, 'USD', now() + interval '1 hour');
      UPDATE accounts SET held = 10 WHERE id = 'acc_cust';`);
    assert.equal((await verify()).code, 0);
    await superuser.query(`UPDATE accounts SET held = 0 WHERE id = 'acc_cust'`);
    let result = await verify();
    assert.equal(result.code, 1);
    assert.match(result.stdout, /FAIL {2}every account's held balance equals its active holds \(1\)/);
    await superuser.query(`UPDATE accounts SET held = 10 WHERE id = 'acc_cust'`);

    await superuser.query(`
      INSERT INTO usage_events (tenant_id, id, type, account_id, occurred_at, status)
        VALUES ('ten_1', 'e1', 'call', 'acc_cust', now(), 'processed');
      INSERT INTO meters (id, tenant_id, event_type, aggregation, unit_price, currency)
        VALUES ('mtr_1', 'ten_1', 'call', 'count', 5, 'USD');
      INSERT INTO usage_processed (tenant_id, event_id, type, account_id, occurred_at, category, worker_id,
          meter_id, quantity, amount, currency, billing_status)
        VALUES ('ten_1', 'e1', 'call', 'acc_cust', now(), 'standard', 'w', 'mtr_1', 1, 5, 'USD', 'charged');`);
    result = await verify();
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      /FAIL {2}every billed usage event has a succeeded charge of its amount \(1\)/,
    );
    await superuser.query(`UPDATE usage_processed SET amount = 0 WHERE event_id = 'e1'`);
    assert.equal((await verify()).code, 0);
  });

  it('fails on an unbalanced transaction, and on a failed transaction with entries', async () => {
    await superuser.query(`
      INSERT INTO transactions (id, tenant_id, type, status, amount, currency, destination_account_id)
        VALUES ('txn_2', 'ten_1', 'deposit', 'failed', 7, 'USD', 'acc_cust');
      INSERT INTO ledger_entries (id, tenant_id, transaction_id, account_id, amount, balance_after, currency)
        VALUES ('ent_3', 'ten_1', 'txn_2', 'acc_cust', 7, 107, 'USD');
      UPDATE accounts SET posted = 107 WHERE id = 'acc_cust';`);
    const result = await verify();
    assert.equal(result.code, 1);
    assert.match(result.stdout, /FAIL {2}every transaction's entries sum to zero/);
    assert.match(result.stdout, /FAIL {2}no failed or unfinished transaction has entries/);
  });
});
