import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Api, send, signedInOperator, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const key = () => `ac-${randomBytes(6).toString('hex')}`;

/**
 * The operators' reads of the commerce side (docs/admin-api.md, "Products and orders"): products
 * with their stock and search, orders with their hold, capture, events and receipt link. Every
 * answer is checked against the admin API's generated document by `send`. Each test reads through
 * a tenant of its own (`tenantId=`), so other files' data never shows.
 */
describe('admin: products and orders', () => {
  let stack: InProcessStack;
  let viewer = '';

  const admin = async (path: string, token: string | null = viewer) => {
    const res = await send(
      stack.url('admin'),
      'GET',
      path,
      token ? { authorization: `Bearer ${token}` } : {},
    );
    return { status: res.status, body: res.body, headers: res.headers, text: res.text };
  };
  const shop = async (name: string) => {
    const tenant = await newTenant(name);
    return { tenantId: tenant.tenantId, api: new Api(stack.url('gateway'), tenant.apiKey) };
  };
  const product = async (api: Api, body: Record<string, unknown> = {}) => {
    const res = await api.post('/v1/products', {
      sku: `SKU-${randomBytes(4).toString('hex')}`,
      name: 'Red desk lamp',
      price: 2500,
      currency: 'USD',
      stock: 10,
      ...body,
    });
    assert.equal(res.status, 201, res.text);
    return res.body.id as string;
  };
  const funded = async (api: Api, amount: number) => {
    const account = await api.account();
    await api.deposit(account, amount);
    return account;
  };
  const order = async (api: Api, accountId: string, productId: string, quantity: number) => {
    const res = await api.post(
      '/v1/orders',
      { accountId, items: [{ productId, quantity }] },
      { 'idempotency-key': key() },
    );
    assert.equal(res.status, 201, res.text);
    return res.body as { id: string; createdAt: string };
  };
  const final = (api: Api, id: string) =>
    waitFor(
      `order ${id} final`,
      async () => {
        const o = (await api.get(`/v1/orders/${id}`)).body;
        return o.status === 'reserved' ? undefined : o;
      },
      20_000,
    );
  /** Stops the worker, so that nothing completes an order behind the test's back; `withWorker` restarts it. */
  let working = true;
  const withoutWorker = async () => {
    await stack.app('transaction-worker').close();
    stack.apps.delete('transaction-worker');
    working = false;
  };
  const withWorker = async () => {
    if (!working) await stack.startApp('transaction-worker');
    working = true;
  };
  const ids = (page: { data: { id: string }[] }) => page.data.map((r) => r.id);

  beforeAll(async () => {
    stack = await InProcessStack.start('admincommerce', ['gateway', 'transaction-worker', 'admin']);
    viewer = await signedInOperator(stack.url('admin'), 'viewer');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('shows a reserved order and a cancelled one: hold active or voided, no capture, no receipt', async () => {
    const { tenantId, api } = await shop('Cancelled');
    const lamp = await product(api, { stock: 5, price: 700 });
    const account = await funded(api, 10_000);
    await withoutWorker();
    const kept = await order(api, account, lamp, 1);
    const dropped = await order(api, account, lamp, 2);
    assert.equal((await api.post(`/v1/orders/${dropped.id}/cancel`)).status, 200);

    const reserved = await admin(`/admin/api/orders/${kept.id}`);
    assert.equal(reserved.status, 200, reserved.text);
    assert.deepEqual(
      [
        reserved.body.status,
        reserved.body.hold.status,
        reserved.body.hold.amount,
        reserved.body.hold.capturedAmount,
      ],
      ['reserved', 'active', 700, null],
    );
    assert.deepEqual([reserved.body.transaction, reserved.body.receiptUrl], [null, null]);
    assert.deepEqual(
      reserved.body.events.map((e: { type: string }) => e.type),
      ['order.requested'],
    );

    const cancelled = await admin(`/admin/api/orders/${dropped.id}`);
    assert.deepEqual(
      [
        cancelled.body.status,
        cancelled.body.hold.status,
        cancelled.body.transaction,
        cancelled.body.receiptUrl,
      ],
      ['cancelled', 'voided', null, null],
    );
    assert.deepEqual(
      cancelled.body.events.map((e: { type: string }) => e.type),
      ['order.requested', 'order.cancelled'],
    );
    assert.deepEqual(ids((await admin(`/admin/api/orders?tenantId=${tenantId}&status=reserved`)).body), [
      kept.id,
    ]);
    assert.deepEqual(ids((await admin(`/admin/api/orders?tenantId=${tenantId}&status=cancelled`)).body), [
      dropped.id,
    ]);
    const stock = (await admin(`/admin/api/products/${lamp}`)).body.stock;
    assert.deepEqual(stock, { onHand: 5, reserved: 1, available: 4 });
  });

  it('lists products with stock, purchases and price; searches, filters and pages them', async () => {
    await withWorker();
    const { tenantId, api } = await shop('Lamps');
    const { api: otherApi } = await shop('Other lamps');
    const lamp = await product(api, { name: 'Red desk lamp', category: 'lighting', stock: 10, price: 2500 });
    const mug = await product(api, { name: 'Blue mug', category: 'kitchen', stock: 5, price: 400 });
    const shade = await product(api, { name: 'Lamp shade', category: 'lighting', stock: 3, price: 900 });
    await product(otherApi, { name: 'Red desk lamp' });
    assert.equal(
      (await api.request('PATCH', `/v1/products/${mug}`, { body: { status: 'archived' } })).status,
      200,
    );
    const account = await funded(api, 100_000);
    const sold = await order(api, account, lamp, 2);
    assert.equal((await final(api, sold.id)).status, 'completed');

    const all = await admin(`/admin/api/products?tenantId=${tenantId}`);
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(ids(all.body), [shade, mug, lamp]); // newest first
    assert.equal(all.body.nextBefore, null);
    const shown = all.body.data.find((p: { id: string }) => p.id === lamp);
    assert.equal(shown.tenantId, tenantId);
    assert.deepEqual([shown.price, shown.currency, shown.purchases], [2500, 'USD', 2]);
    assert.deepEqual(shown.stock, { onHand: 8, reserved: 0, available: 8 });

    // Text search: stemmed, any word order; across tenants unless one is named.
    const lamps = await admin(
      `/admin/api/products?tenantId=${tenantId}&q=${encodeURIComponent('lamps desk')}`,
    );
    assert.deepEqual(ids(lamps.body), [lamp]);
    const everywhere = await admin(`/admin/api/products?q=${encodeURIComponent('desk lamps red')}`);
    assert.ok(everywhere.body.data.some((p: { tenantId: string }) => p.tenantId !== tenantId));
    assert.deepEqual(
      ids(await admin(`/admin/api/products?tenantId=${tenantId}&category=lighting`).then((r) => r.body)),
      [shade, lamp],
    );
    assert.deepEqual(
      ids(await admin(`/admin/api/products?tenantId=${tenantId}&status=archived`).then((r) => r.body)),
      [mug],
    );

    // Pages of two: no gaps, no repeats.
    const first = await admin(`/admin/api/products?tenantId=${tenantId}&limit=2`);
    assert.deepEqual(ids(first.body), [shade, mug]);
    assert.equal(first.body.nextBefore, mug);
    const second = await admin(`/admin/api/products?tenantId=${tenantId}&limit=2&before=${mug}`);
    assert.deepEqual(ids(second.body), [lamp]);
    assert.equal(second.body.nextBefore, null);

    const one = await admin(`/admin/api/products/${lamp}`);
    assert.equal(one.status, 200, one.text);
    assert.deepEqual([one.body.id, one.body.name, one.body.category], [lamp, 'Red desk lamp', 'lighting']);
    assert.equal(one.body.purchases, 2);
  });

  it('lists orders by tenant, account, status and time, and pages them', async () => {
    await withWorker();
    const { tenantId, api } = await shop('Orders');
    const lamp = await product(api, { stock: 20, price: 300 });
    const [ana, bob] = [await funded(api, 10_000), await funded(api, 10_000)];
    const a = await order(api, ana, lamp, 1);
    assert.equal((await final(api, a.id)).status, 'completed');
    const b = await order(api, bob, lamp, 2);
    assert.equal((await final(api, b.id)).status, 'completed');
    const c = await order(api, ana, lamp, 3);
    assert.equal((await final(api, c.id)).status, 'completed');

    const all = await admin(`/admin/api/orders?tenantId=${tenantId}`);
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(ids(all.body), [c.id, b.id, a.id]);
    const shown = all.body.data[0];
    assert.deepEqual(
      [shown.tenantId, shown.accountId, shown.status, shown.total, shown.currency],
      [tenantId, ana, 'completed', 900, 'USD'],
    );
    assert.deepEqual(shown.items[0], {
      productId: lamp,
      sku: shown.items[0].sku,
      name: 'Red desk lamp',
      quantity: 3,
      unitPrice: 300,
      amount: 900,
    });

    const byAccount = await admin(`/admin/api/orders?tenantId=${tenantId}&accountId=${ana}`);
    assert.deepEqual(ids(byAccount.body), [c.id, a.id]);
    const byStatus = await admin(`/admin/api/orders?tenantId=${tenantId}&status=cancelled`);
    assert.deepEqual(ids(byStatus.body), []);
    const since = await admin(
      `/admin/api/orders?tenantId=${tenantId}&from=${encodeURIComponent(b.createdAt)}`,
    );
    assert.deepEqual(ids(since.body), [c.id, b.id]);
    const until = await admin(`/admin/api/orders?tenantId=${tenantId}&to=${encodeURIComponent(b.createdAt)}`);
    assert.deepEqual(ids(until.body), [a.id]);

    const first = await admin(`/admin/api/orders?tenantId=${tenantId}&limit=2`);
    assert.deepEqual([ids(first.body), first.body.nextBefore], [[c.id, b.id], b.id]);
    const second = await admin(`/admin/api/orders?tenantId=${tenantId}&limit=2&before=${b.id}`);
    assert.deepEqual([ids(second.body), second.body.nextBefore], [[a.id], null]);
  });

  it('shows a completed order with its captured hold, its capture, its events and its receipt', async () => {
    await withWorker();
    const { tenantId, api } = await shop('Detail');
    const lamp = await product(api, { stock: 5, price: 700 });
    const account = await funded(api, 10_000);
    const placed = await order(api, account, lamp, 2);
    const done = await final(api, placed.id);
    assert.equal(done.status, 'completed');

    // Its outcome event is written with its outcome: no wait.
    const res = await admin(`/admin/api/orders/${placed.id}`);
    assert.equal(res.status, 200, res.text);
    const detail = res.body;
    assert.deepEqual(
      [detail.id, detail.tenantId, detail.status, detail.total],
      [placed.id, tenantId, 'completed', 1400],
    );
    assert.deepEqual(
      [
        detail.hold.id,
        detail.hold.status,
        detail.hold.amount,
        detail.hold.capturedAmount,
        detail.hold.currency,
      ],
      [done.holdId, 'captured', 1400, 1400, 'USD'],
    );
    assert.deepEqual(detail.transaction, {
      id: done.transactionId,
      status: 'succeeded',
      url: `/admin/api/transactions/${done.transactionId}`,
    });
    const capture = await admin(detail.transaction.url);
    assert.deepEqual([capture.status, capture.body.type, capture.body.amount], [200, 'capture', 1400]);
    assert.deepEqual(
      detail.events.map((e: { type: string }) => e.type),
      ['order.requested', 'order.completed'],
    );
    assert.equal(detail.receiptUrl, `/admin/api/orders/${placed.id}/receipt`);
  });

  it('answers 404 not_found for an unknown product or order', async () => {
    for (const path of ['/admin/api/products/prod_nope', '/admin/api/orders/ord_nope']) {
      const res = await admin(path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.code, 'not_found');
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    }
  });

  it('refuses bad filters with 400 problem+json', async () => {
    for (const path of [
      '/admin/api/products?limit=0',
      '/admin/api/products?limit=501',
      '/admin/api/products?limit=ten',
      '/admin/api/products?status=deleted',
      `/admin/api/products?q=${'x'.repeat(201)}`,
      '/admin/api/orders?status=shipped',
      '/admin/api/orders?from=yesterday',
      '/admin/api/orders?to=2026-12-01',
      '/admin/api/orders?limit=-1',
      '/admin/api/orders?sort=newest',
    ]) {
      const res = await admin(path);
      assert.equal(res.status, 400, `${path}: ${res.text}`);
      assert.equal(res.body.code, 'validation_error', path);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/, path);
    }
  });

  it('needs a signed-in operator: no token or a bad one is 401; every role may read', async () => {
    const { api } = await shop('Roles');
    const lamp = await product(api);
    const placed = await order(api, await funded(api, 10_000), lamp, 1);
    const paths = [
      '/admin/api/products',
      `/admin/api/products/${lamp}`,
      '/admin/api/orders',
      `/admin/api/orders/${placed.id}`,
    ];
    for (const path of paths) {
      for (const token of [null, 'not-a-token']) {
        const res = await admin(path, token);
        assert.equal(res.status, 401, path);
        assert.equal(res.body.code, 'unauthorized');
      }
    }
    const operator = await signedInOperator(stack.url('admin'), 'operator');
    for (const path of paths) assert.equal((await admin(path, operator)).status, 200, path);
  });
});
