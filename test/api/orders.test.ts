import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, inParallel, openDataSource, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const key = () => `o-${randomBytes(6).toString('hex')}`;

/**
 * Orders (docs/api.md, Commerce: orders) through HTTP, with the worker completing them. Cancels of
 * reserved orders, the reservation sweep, failed captures and their races are in
 * test/service/orders.test.ts, where nothing completes an order behind the test's back.
 */
describe('orders: stock reserved and the total held at once, captured in the background', () => {
  let shop: InProcessStack;
  let api: Api;
  let other: Api;
  let db: DataSource;
  let skus = 0;

  const product = async (body: Record<string, unknown> = {}) => {
    const res = await api.post('/v1/products', {
      sku: `SKU-${++skus}-${randomBytes(3).toString('hex')}`,
      name: 'Lamp',
      price: 250,
      currency: 'USD',
      stock: 10,
      ...body,
    });
    assert.equal(res.status, 201, res.text);
    return res.body.id as string;
  };
  const funded = async (amount: number, currency = 'USD') => {
    const account = await api.account({ currency });
    if (amount > 0) await api.deposit(account, amount, currency);
    return account;
  };
  const order = (client: Api, body: Record<string, unknown>, idempotencyKey: string | null = key()) =>
    client.post('/v1/orders', body, idempotencyKey === null ? {} : { 'idempotency-key': idempotencyKey });
  const stockOf = async (id: string) => (await api.get(`/v1/products/${id}`)).body.stock;
  const balanceOf = async (id: string) => (await api.get(`/v1/accounts/${id}`)).body.balance;
  const final = (id: string) =>
    waitFor(
      `order ${id} final`,
      async () => {
        const o = (await api.get(`/v1/orders/${id}`)).body;
        return o.status === 'reserved' ? undefined : o;
      },
      20_000,
    );

  beforeAll(async () => {
    shop = await InProcessStack.start('orders', ['gateway', 'transaction-worker']);
    api = new Api(shop.url('gateway'), (await newTenant('Shop')).apiKey);
    other = new Api(shop.url('gateway'), (await newTenant('Other shop')).apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db?.destroy();
    await shop?.stop();
  });

  it('places an order (201 reserved: stock reserved, total held), then completes it exactly once', async () => {
    const lamp = await product({ price: 250, stock: 10 });
    const mug = await product({ price: 40, stock: 5 });
    const account = await funded(10_000);
    const k = key();
    const res = await order(
      api,
      {
        accountId: account,
        items: [
          { productId: lamp, quantity: 2 },
          { productId: mug, quantity: 3 },
        ],
        customerEmail: 'ana@example.com',
        metadata: { cart: 'c-1' },
      },
      k,
    );
    assert.equal(res.status, 201, res.text);
    assert.match(res.body.id, /^ord_[0-9A-Z]{26}$/);
    assert.equal(res.headers.get('location'), `/v1/orders/${res.body.id}`);
    assert.equal(res.body.status, 'reserved');
    assert.equal(res.body.total, 620);
    assert.deepEqual(
      res.body.items.map((i: { quantity: number; unitPrice: number; amount: number }) => [
        i.quantity,
        i.unitPrice,
        i.amount,
      ]),
      [
        [2, 250, 500],
        [3, 40, 120],
      ],
    );
    assert.match(res.body.holdId, /^hold_/);
    assert.equal(res.body.transactionId, null);

    const done = await final(res.body.id);
    assert.equal(done.status, 'completed');
    assert.match(done.transactionId, /^txn_/);
    assert.ok(done.completedAt);
    assert.deepEqual(await stockOf(lamp), { onHand: 8, reserved: 0, available: 8 });
    assert.deepEqual(await stockOf(mug), { onHand: 2, reserved: 0, available: 2 });
    assert.equal((await api.get(`/v1/products/${lamp}`)).body.purchases, 2);
    assert.deepEqual(await balanceOf(account), { posted: 9_380, held: 0, available: 9_380 });
    const capture = (await api.get(`/v1/transactions/${done.transactionId}`)).body;
    assert.equal(capture.type, 'capture');
    assert.equal(capture.status, 'succeeded');
    assert.equal(capture.amount, 620);

    // The same key answers the first answer again; nothing is reserved or held twice.
    const replay = await order(api, { accountId: account, items: res.body.items.map(lineOf) }, k);
    assert.equal(replay.status, 422, replay.text); // another body under the key
    const again = await order(
      api,
      {
        accountId: account,
        items: [
          { productId: lamp, quantity: 2 },
          { productId: mug, quantity: 3 },
        ],
        customerEmail: 'ana@example.com',
        metadata: { cart: 'c-1' },
      },
      k,
    );
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.id, res.body.id);
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM transactions WHERE type = 'capture' AND metadata->>'orderId' = $1`,
      [res.body.id],
    );
    assert.equal(n, 1);
    const events = await db.query(
      `SELECT routing_key FROM outbox WHERE routing_key LIKE 'order.%' AND payload->'data'->>'id' = $1`,
      [res.body.id],
    );
    assert.deepEqual(
      events.map((e: { routing_key: string }) => e.routing_key),
      ['order.completed'],
    );
    const listed = await api.get(`/v1/orders?accountId=${account}&status=completed`);
    assert.deepEqual(
      listed.body.data.map((o: { id: string }) => o.id),
      [res.body.id],
    );
  });

  it('refuses at once, changing nothing: every code of the contract', async () => {
    const lamp = await product({ price: 250, stock: 3 });
    const euro = await product({ price: 250, currency: 'EUR' });
    const archived = await product();
    assert.equal(
      (await api.request('PATCH', `/v1/products/${archived}`, { body: { status: 'archived' } })).status,
      200,
    );
    const account = await funded(300);
    const poor = await funded(100);
    const before = { stock: await stockOf(lamp), balance: await balanceOf(account) };
    const cases: [Record<string, unknown>, number, string][] = [
      [
        { accountId: account, items: [{ productId: 'prod_01JD3Z8Q4N6V3F5W7X9Y1A2B3C', quantity: 1 }] },
        404,
        'product_not_found',
      ],
      [
        { accountId: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C', items: [{ productId: lamp, quantity: 1 }] },
        404,
        'account_not_found',
      ],
      [{ accountId: account, items: [{ productId: euro, quantity: 1 }] }, 422, 'currency_mismatch'],
      [{ accountId: account, items: [{ productId: archived, quantity: 1 }] }, 422, 'product_archived'],
      [{ accountId: account, items: [{ productId: lamp, quantity: 4 }] }, 409, 'out_of_stock'],
      [{ accountId: poor, items: [{ productId: lamp, quantity: 1 }] }, 402, 'insufficient_funds'],
      [{ accountId: account, items: [] }, 400, 'validation_error'],
      [{ accountId: account, items: [{ productId: lamp, quantity: 0 }] }, 400, 'validation_error'],
      [{ accountId: account, items: [{ productId: lamp, quantity: 1.5 }] }, 400, 'validation_error'],
      [
        {
          accountId: account,
          items: [
            { productId: lamp, quantity: 1 },
            { productId: lamp, quantity: 1 },
          ],
        },
        400,
        'validation_error',
      ],
      [
        { accountId: account, items: [{ productId: lamp, quantity: 1 }], customerEmail: 'nope' },
        400,
        'validation_error',
      ],
    ];
    for (const [body, status, code] of cases) {
      const res = await order(api, body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.code, code, JSON.stringify(body));
    }
    const short = await order(api, { accountId: account, items: [{ productId: lamp, quantity: 4 }] });
    assert.deepEqual(short.body.errors, [
      { field: 'items.0.quantity', message: `3 of ${lamp} available, 4 asked for` },
    ]);
    const frozen = await funded(1_000);
    await db.query(`UPDATE accounts SET status = 'frozen' WHERE id = $1`, [frozen]);
    const refused = await order(api, { accountId: frozen, items: [{ productId: lamp, quantity: 1 }] });
    assert.equal(refused.status, 422, refused.text);
    assert.equal(refused.body.code, 'account_frozen');
    const keyless = await order(api, { accountId: account, items: [{ productId: lamp, quantity: 1 }] }, null);
    assert.equal(keyless.status, 400);
    assert.equal(keyless.body.code, 'idempotency_key_required');
    const theirs = await order(other, { accountId: account, items: [{ productId: lamp, quantity: 1 }] });
    assert.equal(theirs.status, 404);
    assert.deepEqual(await stockOf(lamp), before.stock);
    assert.deepEqual(await balanceOf(account), before.balance);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM order_items WHERE product_id = $1`, [
      lamp,
    ]);
    assert.equal(n, 0);
  });

  it('never oversells: 500 concurrent orders for 37 units ⇒ exactly 37 placed and sold, money only from the winners', async () => {
    const lamp = await product({ price: 100, stock: 37 });
    const buyers = await inParallel(50, 10, () => funded(1_000));
    const results = await inParallel(500, 25, (i) =>
      order(api, { accountId: buyers[i % buyers.length], items: [{ productId: lamp, quantity: 1 }] }),
    );
    const placed = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    assert.equal(
      placed.length,
      37,
      results
        .filter((r) => r.status !== 201 && r.status !== 409)
        .map((r) => r.text)
        .join('\n'),
    );
    assert.equal(refused.length, 463);
    assert.ok(refused.every((r) => r.body.code === 'out_of_stock'));
    for (const r of placed) assert.equal((await final(r.body.id)).status, 'completed');
    assert.deepEqual(await stockOf(lamp), { onHand: 0, reserved: 0, available: 0 });
    const [row] = await db.query(
      `SELECT stock_received::int AS received, stock_sold::int AS sold FROM products WHERE id = $1`,
      [lamp],
    );
    assert.deepEqual(row, { received: 37, sold: 37 });
    let paid = 0;
    for (const buyer of buyers) paid += 1_000 - (await balanceOf(buyer)).posted;
    assert.equal(paid, 37 * 100);
  });

  it('a completed order cannot be cancelled (409); an unknown one is 404', async () => {
    const lamp = await product({ price: 250, stock: 5 });
    const account = await funded(1_000);
    const completed = await order(api, { accountId: account, items: [{ productId: lamp, quantity: 1 }] });
    assert.equal((await final(completed.body.id)).status, 'completed');
    const late = await api.post(`/v1/orders/${completed.body.id}/cancel`);
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'order_not_cancellable');
    const foreign = await other.post(`/v1/orders/${completed.body.id}/cancel`);
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.code, 'order_not_found');
    const missing = await api.get('/v1/orders/ord_01JD3ZF6G7H8J9K0M1N2P3Q4R5');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'order_not_found');
  });
});

function lineOf(i: { productId: string; quantity: number }) {
  return { productId: i.productId, quantity: i.quantity + 1 };
}
