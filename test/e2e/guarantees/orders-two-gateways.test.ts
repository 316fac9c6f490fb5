import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, Stack, createTenant, inParallel, openDataSource, tallyCli, waitFor } from '#test-support';

const ORDERS = 500;
const STOCK = 37;
const PRICE = 100;
/** Each buyer places ORDERS / BUYERS orders and can pay for all of them. */
const BUYERS = 50;
const FUNDING = (ORDERS / BUYERS) * PRICE;

const key = () => `two-${randomBytes(6).toString('hex')}`;

/**
 * No overselling "from any number of gateway replicas" (docs/api.md, Commerce: orders): two gateway
 * processes from dist/, each with the strategy under test, and the transaction-worker; 500 orders
 * of one unit, from 50 funded buyers, spread over both gateways at once, for a product with 37
 * units. Exactly 37 are placed (reserved) and then sold by the worker, the rest are refused with
 * 409 and change nothing, and only the 37 winners paid. The in-process variant of this race, and
 * Redis going away during it, are test/api/inventory-locking.test.ts.
 */
describe.each(['pessimistic', 'distributed', 'optimistic'] as const)(
  'two gateway processes, INVENTORY_LOCKING=%s',
  (strategy) => {
    let stack: Stack;
    let gateways: Api[];
    let db: DataSource;
    let tenantId: string;

    beforeAll(async () => {
      const env: Record<string, string> = { INVENTORY_LOCKING: strategy };
      if (strategy === 'distributed') {
        Object.assign(env, {
          REDIS_URL: 'redis://127.0.0.1:6379',
          REDIS_KEY_PREFIX: `test-${randomBytes(4).toString('hex')}:`,
          // A loaded test machine must not turn the Redis path into the row-lock fallback, nor a
          // long queue for the lock into 409 inventory_contention: the race is about overselling.
          REDIS_TIMEOUT_MS: '1000',
          INVENTORY_LOCK_WAIT_MS: '60000',
        });
      }
      stack = await Stack.start(`two-gateways-${strategy}`, ['gateway', 'transaction-worker'], env);
      const second = await stack.startExtra('gateway');
      const tenant = await createTenant(`Two gateways ${strategy}`);
      tenantId = tenant.tenantId;
      gateways = [new Api(stack.url('gateway'), tenant.apiKey), new Api(second.url, tenant.apiKey)];
      db = await openDataSource(2);
    });
    afterAll(async () => {
      await db?.destroy();
      await stack?.stop();
    });

    it(`${ORDERS} concurrent orders over both for ${STOCK} units ⇒ exactly ${STOCK} reserved then sold, the rest 409, money moved only for the winners`, async () => {
      const [api] = gateways;
      const product = await api.post('/v1/products', {
        sku: `TWO-${randomBytes(4).toString('hex')}`,
        name: 'Two-gateway lamp',
        price: PRICE,
        currency: 'USD',
        stock: STOCK,
      });
      assert.equal(product.status, 201, product.text);
      const lamp = product.body.id as string;

      // Buyers funded through the API (so the ledger adds up), on both gateways.
      const buyers = await inParallel(BUYERS, 10, (i) => gateways[i % 2].account({ currency: 'USD' }));
      const deposits = await inParallel(BUYERS, 10, (i) =>
        gateways[i % 2].post(
          '/v1/transactions',
          { type: 'deposit', destinationAccountId: buyers[i], amount: FUNDING, currency: 'USD' },
          { 'idempotency-key': key() },
        ),
      );
      assert.deepEqual(
        deposits.filter((d) => d.status !== 202).map((d) => d.text),
        [],
      );
      await waitFor(
        'the deposits to succeed',
        async () => {
          const [{ open }] = await db.query(
            `SELECT count(*)::int AS open FROM transactions WHERE tenant_id = $1 AND status <> 'succeeded'`,
            [tenantId],
          );
          return open === 0;
        },
        60_000,
        200,
      );

      // The race: order i, buyer i % 50's, goes to gateway i % 2; 100 in flight.
      const buyerOf = (i: number) => buyers[i % BUYERS];
      const results = await inParallel(ORDERS, 100, (i) =>
        gateways[i % 2].post(
          '/v1/orders',
          { accountId: buyerOf(i), items: [{ productId: lamp, quantity: 1 }] },
          { 'idempotency-key': key() },
        ),
      );

      const unexpected = results.filter((r) => r.status !== 201 && r.status !== 409).map((r) => r.text);
      assert.deepEqual(unexpected, []);
      const placed = results.flatMap((r, i) =>
        r.status === 201 ? [{ order: r.body, buyer: buyerOf(i) }] : [],
      );
      assert.equal(placed.length, STOCK);
      for (const { order, buyer } of placed) {
        assert.equal(order.status, 'reserved');
        assert.equal(order.accountId, buyer);
        assert.equal(order.total, PRICE);
      }
      // The contract's refusal for a sold-out product; optimistic may also give up on a product
      // whose version kept moving (409 inventory_contention), which changes nothing either.
      const allowed = strategy === 'optimistic' ? ['out_of_stock', 'inventory_contention'] : ['out_of_stock'];
      const refusals = results.filter((r) => r.status === 409).map((r) => r.body.code as string);
      assert.equal(refusals.length, ORDERS - STOCK);
      assert.deepEqual(
        refusals.filter((code) => !allowed.includes(code)),
        [],
      );
      if (strategy !== 'optimistic') assert.ok(refusals.every((code) => code === 'out_of_stock'));

      // Reserved: the units taken are exactly the 37 placed orders' (the worker may have sold some).
      const stockRow = async () =>
        (
          await db.query(
            `SELECT stock_received::int AS received, stock_reserved::int AS reserved, stock_sold::int AS sold,
                    lock_fence::int AS fence
               FROM products WHERE id = $1`,
            [lamp],
          )
        )[0] as { received: number; reserved: number; sold: number; fence: number };
      const taken = await stockRow();
      assert.equal(taken.received, STOCK);
      assert.equal(taken.reserved + taken.sold, STOCK);
      const inDatabase: { id: string }[] = await db.query(
        `SELECT o.id FROM orders o JOIN order_items i ON i.order_id = o.id WHERE i.product_id = $1 ORDER BY o.id`,
        [lamp],
      );
      assert.deepEqual(
        inDatabase.map((o) => o.id),
        placed.map((p) => p.order.id as string).sort(),
      );
      if (strategy === 'distributed') {
        // The orders wrote under the Redis lock (its fencing token), not through the row-lock fallback.
        assert.ok(taken.fence > 0, `lock_fence ${taken.fence}`);
      }

      // Then sold: the worker captures every hold and completes every order.
      await waitFor(
        'the worker to complete the orders',
        async () => {
          const [{ open }] = await db.query(
            `SELECT count(*)::int AS open FROM orders WHERE tenant_id = $1 AND status = 'reserved'`,
            [tenantId],
          );
          return open === 0;
        },
        60_000,
        200,
      );
      const [states] = await db.query(
        `SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed, count(*)::int AS orders
           FROM orders WHERE tenant_id = $1`,
        [tenantId],
      );
      assert.deepEqual(states, { completed: STOCK, orders: STOCK });
      const sold = await stockRow();
      assert.deepEqual(
        { received: sold.received, reserved: sold.reserved, sold: sold.sold },
        { received: STOCK, reserved: 0, sold: STOCK },
      );
      const read = (await api.get(`/v1/products/${lamp}`)).body;
      assert.deepEqual(read.stock, { onHand: 0, reserved: 0, available: 0 });
      assert.equal(read.purchases, STOCK);

      // Money: each buyer paid for its placed orders, once each, and for nothing else: a refused
      // order took no money, held none and was not even given a hold.
      const won = new Map<string, number>();
      for (const { buyer } of placed) won.set(buyer, (won.get(buyer) ?? 0) + 1);
      const balances: { id: string; posted: number; held: number; holds: number }[] = await db.query(
        `SELECT a.id, a.posted::int, a.held::int,
                (SELECT count(*)::int FROM holds h WHERE h.account_id = a.id) AS holds
           FROM accounts a WHERE a.id = ANY($1)`,
        [buyers],
      );
      assert.equal(balances.length, BUYERS);
      const wrong = balances.filter((b) => {
        const orders = won.get(b.id) ?? 0;
        return b.posted !== FUNDING - orders * PRICE || b.held !== 0 || b.holds !== orders;
      });
      assert.deepEqual(wrong, []);
      const [captures] = await db.query(
        `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::int AS total FROM transactions
          WHERE tenant_id = $1 AND type = 'capture' AND status = 'succeeded'`,
        [tenantId],
      );
      assert.deepEqual(captures, { n: STOCK, total: STOCK * PRICE });
      const verify = await tallyCli(['ledger:verify']);
      assert.equal(verify.code, 0, verify.stdout);
    });
  },
);
