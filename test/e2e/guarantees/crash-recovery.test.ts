import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { Api, Stack, createTenant, inParallel, openDataSource, tallyCli, waitFor } from '#test-support';

const BURST = 1000;

describe('exactly once under crashes (kill -9)', () => {
  let db: DataSource;

  beforeAll(async () => {
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db.destroy();
  });

  /** Every accepted deposit ends succeeded, with exactly one pair of entries, and the balance adds up. */
  async function assertExactlyOnce(accountId: string, accepted: Set<string>) {
    await waitFor(
      'every accepted transaction to finish',
      async () => {
        const [{ open }] = await db.query(
          `SELECT count(*)::int AS open FROM transactions WHERE destination_account_id = $1 AND status NOT IN ('succeeded', 'failed')`,
          [accountId],
        );
        return open === 0;
      },
      120_000,
      250,
    );
    const rows: { id: string; status: string; entries: number }[] = await db.query(
      `SELECT t.id, t.status, (SELECT count(*)::int FROM ledger_entries e WHERE e.transaction_id = t.id) AS entries
         FROM transactions t WHERE t.destination_account_id = $1`,
      [accountId],
    );
    assert.equal(rows.length, accepted.size, 'one transaction per accepted request');
    for (const row of rows) {
      assert.ok(accepted.has(row.id));
      assert.equal(row.status, 'succeeded', row.id);
      assert.equal(row.entries, 2, `${row.id} posted exactly once`);
    }
    const [{ posted }] = await db.query(`SELECT posted::int FROM accounts WHERE id = $1`, [accountId]);
    assert.equal(posted, accepted.size);
    const verify = await tallyCli(['ledger:verify']);
    assert.equal(verify.code, 0, verify.stdout);
  }

  it('the worker killed mid-burst of 1,000 deposits: every accepted one succeeds exactly once', async () => {
    const stack = await Stack.start('crash-worker', ['gateway', 'transaction-worker'], {
      AMQP_DELIVERY_LIMIT: '20',
    });
    try {
      const api = new Api(stack.url('gateway'), (await createTenant('Crash worker')).apiKey);
      const account = await api.account();
      const accepted = new Set<string>();
      let pendingAtCrash = -1;
      await inParallel(BURST, 20, async (i) => {
        const res = await api.post(
          '/v1/transactions',
          { type: 'deposit', destinationAccountId: account, amount: 1, currency: 'USD' },
          { 'idempotency-key': `w-${i}` },
        );
        assert.equal(res.status, 202, res.text);
        accepted.add(res.body.id);
        if (accepted.size === 300) {
          await stack.crash('transaction-worker');
          await new Promise((r) => setTimeout(r, 300)); // the other clients keep posting meanwhile
          const [{ n }] = await db.query(
            `SELECT count(*)::int AS n FROM transactions WHERE destination_account_id = $1 AND status = 'pending'`,
            [account],
          );
          pendingAtCrash = n;
          await stack.startApp('transaction-worker');
        }
      });
      assert.equal(accepted.size, BURST);
      assert.ok(pendingAtCrash > 0, 'the crash happened with work still outstanding');
      await assertExactlyOnce(account, accepted);
    } finally {
      await stack.stop();
    }
  });

  it('the outbox relay killed mid-burst (with its gateway): clients retry by key, each deposit happens once', async () => {
    // Only the gateway relays here, so killing it kills the relay between claims, publishes and marks.
    const stack = await Stack.start('crash-relay', ['gateway']);
    await stack.startApp('transaction-worker', { OUTBOX_RELAY_ENABLED: 'false' });
    try {
      const key = (await createTenant('Crash relay')).apiKey;
      const account = await new Api(stack.url('gateway'), key).account();
      const accepted = new Set<string>();
      let crashed = false;
      await inParallel(BURST, 20, async (i) => {
        // A well-behaved client: on a network error or 409/503, retry with the same Idempotency-Key.
        for (let attempt = 0; ; attempt++) {
          assert.ok(attempt < 200, `request ${i} never got through`);
          try {
            const res = await new Api(stack.url('gateway'), key).post(
              '/v1/transactions',
              { type: 'deposit', destinationAccountId: account, amount: 1, currency: 'USD' },
              { 'idempotency-key': `r-${i}` },
            );
            if (res.status === 202) {
              accepted.add(res.body.id);
              break;
            }
            assert.ok([409, 503].includes(res.status), `${res.status} ${res.text}`);
          } catch {
            // connection refused while the gateway is down
          }
          await new Promise((r) => setTimeout(r, 200));
        }
        if (accepted.size >= 300 && !crashed) {
          crashed = true;
          await stack.crash('gateway');
          await stack.startApp('gateway');
        }
      });
      assert.ok(crashed);
      assert.equal(accepted.size, BURST, 'every request ended accepted, once');
      await assertExactlyOnce(account, accepted);
    } finally {
      await stack.stop();
    }
  });

  it('the worker killed in the middle of 200 orders: each completes exactly once, stock and ledger agree', async () => {
    const ORDERS = 200;
    const PRICE = 7;
    const stack = await Stack.start('crash-orders', ['gateway', 'transaction-worker'], {
      AMQP_DELIVERY_LIMIT: '20',
    });
    try {
      const api = new Api(stack.url('gateway'), (await createTenant('Crash orders')).apiKey);
      const product = await api.post('/v1/products', {
        sku: 'CRASH-1',
        name: 'Lamp',
        price: PRICE,
        currency: 'USD',
        stock: ORDERS,
      });
      assert.equal(product.status, 201, product.text);
      const buyers = await inParallel(20, 5, async () => {
        const account = await api.account();
        await api.deposit(account, 1_000);
        return account;
      });
      const placed = new Set<string>();
      let reservedAtCrash = -1;
      await inParallel(ORDERS, 20, async (i) => {
        const res = await api.post(
          '/v1/orders',
          { accountId: buyers[i % buyers.length], items: [{ productId: product.body.id, quantity: 1 }] },
          { 'idempotency-key': `order-${i}` },
        );
        assert.equal(res.status, 201, res.text);
        placed.add(res.body.id);
        if (placed.size === 60) {
          await stack.crash('transaction-worker');
          await new Promise((r) => setTimeout(r, 300)); // the other clients keep ordering meanwhile
          const [{ n }] = await db.query(
            `SELECT count(*)::int AS n FROM orders o JOIN order_items i ON i.order_id = o.id
              WHERE i.product_id = $1 AND o.status = 'reserved'`,
            [product.body.id],
          );
          reservedAtCrash = n;
          await stack.startApp('transaction-worker');
        }
      });
      assert.equal(placed.size, ORDERS);
      assert.ok(reservedAtCrash > 0, 'the crash happened with orders outstanding');
      await waitFor(
        'every order to complete',
        async () => {
          const [{ open }] = await db.query(
            `SELECT count(*)::int AS open FROM orders WHERE id = ANY($1::text[]) AND status = 'reserved'`,
            [[...placed]],
          );
          return open === 0;
        },
        120_000,
        250,
      );
      const orders: { status: string; captures: number }[] = await db.query(
        `SELECT o.status,
                (SELECT count(*)::int FROM transactions t
                  WHERE t.type = 'capture' AND t.status = 'succeeded' AND t.metadata->>'orderId' = o.id) AS captures
           FROM orders o WHERE o.id = ANY($1::text[])`,
        [[...placed]],
      );
      assert.deepEqual(
        orders.filter((o) => o.status !== 'completed' || o.captures !== 1),
        [],
        'every order completed with exactly one capture',
      );
      const [stock] = await db.query(
        `SELECT stock_received::int AS received, stock_reserved::int AS reserved, stock_sold::int AS sold
           FROM products WHERE id = $1`,
        [product.body.id],
      );
      assert.deepEqual(stock, { received: ORDERS, reserved: 0, sold: ORDERS });
      const [{ paid }] = await db.query(
        `SELECT sum(1000 - posted)::int AS paid FROM accounts WHERE id = ANY($1::text[])`,
        [buyers],
      );
      assert.equal(paid, ORDERS * PRICE);
      const verify = await tallyCli(['ledger:verify']);
      assert.equal(verify.code, 0, verify.stdout);
    } finally {
      await stack.stop();
    }
  });
});
