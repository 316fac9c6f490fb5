import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import pg from 'pg';
import { Api, testSettings, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const key = () => `gate-${randomBytes(6).toString('hex')}`;

/**
 * ORDER_PLACEMENT_CONCURRENCY: orders that wait on a wallet's row lock (a worker batch holds it,
 * here another session) hold a pooled connection each. Without the gate a burst of them takes the
 * whole pool, and an accept that needs no lock at all waits for a connection until it times out
 * (503). With it, only `limit` orders are in the database; the rest queue in memory.
 */
describe('orders waiting on a locked wallet do not take every connection from accepts', () => {
  let shop: InProcessStack;
  let api: Api;
  let holder: pg.Client;
  /**
   * Watches for waiting sessions from outside the holder's transaction: inside one, Postgres
   * serves pg_stat_activity from a snapshot taken at its first read, so a session opened after
   * that (a new pooled connection) would never show up there.
   */
  let observer: pg.Client;

  beforeAll(async () => {
    shop = await InProcessStack.start('order-gate', ['gateway', 'transaction-worker'], {
      RATE_LIMIT_ENABLED: 'false',
      DATABASE_POOL_MAX: '3',
      ORDER_PLACEMENT_CONCURRENCY: '1',
      ORDER_PLACEMENT_MAX_WAIT_MS: '20000',
    });
    api = new Api(shop.url('gateway'), (await newTenant('Order gate')).apiKey);
    holder = new pg.Client({ connectionString: testSettings().ownerUrl });
    await holder.connect();
    observer = new pg.Client({ connectionString: testSettings().ownerUrl });
    await observer.connect();
  });

  afterAll(async () => {
    await holder?.end();
    await observer?.end();
    await shop?.stop();
  });

  it('six orders queue on a locked wallet; a transfer is still accepted (202) meanwhile', async () => {
    const wallet = await api.account({ currency: 'USD' });
    await api.deposit(wallet, 10_000);
    const other = await api.account({ currency: 'USD' });
    const product = await api.post('/v1/products', {
      sku: `GATE-${randomBytes(4).toString('hex')}`,
      name: 'Gate lamp',
      price: 100,
      currency: 'USD',
      stock: 50,
    });
    assert.equal(product.status, 201, product.text);

    // Another session holds the wallet's row as the worker's batches do.
    await holder.query('BEGIN');
    await holder.query(`SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, [wallet]);
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    let released = false;
    try {
      const orders = Array.from({ length: 6 }, () =>
        api.post(
          '/v1/orders',
          { accountId: wallet, items: [{ productId: product.body.id, quantity: 1 }] },
          { 'idempotency-key': key() },
        ),
      );
      // The first order is in the database, waiting on the wallet's lock.
      const blocked = async () =>
        (
          await observer.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`,
            [holderPid],
          )
        ).rows[0]!.n;
      await waitFor('an order to wait on the wallet lock', async () => (await blocked()) >= 1);

      // An accept needs one connection and no lock: it is answered while the wallet is still held.
      const transfer = await api.post(
        '/v1/transactions',
        { type: 'deposit', destinationAccountId: other, amount: 5, currency: 'USD' },
        { 'idempotency-key': key() },
      );
      assert.equal(transfer.status, 202, transfer.text);
      // Only the gate's one order reached the lock; the other five queue in memory.
      assert.equal(await blocked(), 1);

      await holder.query('COMMIT');
      released = true;
      const placed = await Promise.all(orders);
      assert.deepEqual(
        placed.map((o) => o.status),
        [201, 201, 201, 201, 201, 201],
        placed.map((o) => o.text).join('\n'),
      );
    } finally {
      if (!released) await holder.query('ROLLBACK');
    }
  });

  it('an order that waits at the gate past ORDER_PLACEMENT_MAX_WAIT_MS: 503 with Retry-After, nothing kept', async () => {
    const wallet = await api.account({ currency: 'USD' });
    await api.deposit(wallet, 10_000);
    const product = await api.post('/v1/products', {
      sku: `WAIT-${randomBytes(4).toString('hex')}`,
      name: 'Wait lamp',
      price: 100,
      currency: 'USD',
      stock: 5,
    });
    assert.equal(product.status, 201, product.text);
    // A second gateway of the same stack (its prefix, so what its relay publishes reaches the
    // stack's worker; stopped with the stack), with the short wait.
    const shortApi = new Api(
      (await shop.startExtra('gateway', { ORDER_PLACEMENT_MAX_WAIT_MS: '300' })).url,
      api.apiKey,
    );
    const productId = product.body.id;
    const order = (k: string) =>
      shortApi.post(
        '/v1/orders',
        { accountId: wallet, items: [{ productId, quantity: 1 }] },
        { 'idempotency-key': k },
      );

    await holder.query('BEGIN');
    await holder.query(`SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, [wallet]);
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    let released = false;
    try {
      // The gate's one place: an order waiting on the wallet's lock for as long as it is held.
      let firstAnswer: string | null = null;
      const first = order(key()).then((r) => {
        firstAnswer = `${r.status} ${r.text}`;
        return r;
      });
      const state = await waitFor('an order to wait on the wallet lock', async () => {
        if (firstAnswer) return `answered before it waited: ${firstAnswer}`;
        const { rows } = await observer.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`,
          [holderPid],
        );
        return rows[0]!.n >= 1 ? 'waiting' : null;
      });
      assert.equal(state, 'waiting');
      // Two more wait at the gate, past its longest wait, while the lock is still held.
      const keys = [key(), key()];
      const refused = await Promise.all(keys.map(order));
      for (const r of refused) {
        assert.equal(r.status, 503, r.text);
        assert.equal(r.body.code, 'service_unavailable');
        assert.equal(r.headers.get('retry-after'), '1');
      }
      await holder.query('COMMIT');
      released = true;
      assert.equal((await first).status, 201);
      // Nothing of the refused ones was kept: their keys place an order now.
      const again = await Promise.all(keys.map(order));
      assert.deepEqual(
        again.map((r) => r.status),
        [201, 201],
      );
      const stock = await api.get(`/v1/products/${productId}`);
      assert.equal(stock.body.stock.available, 2, JSON.stringify(stock.body.stock));
    } finally {
      if (!released) await holder.query('ROLLBACK');
    }
  });
});
