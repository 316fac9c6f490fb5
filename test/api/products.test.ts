import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, openDataSource } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const key = () => `p-${Math.random().toString(36).slice(2)}-${Date.now()}`;

describe('products (docs/api.md, Commerce: catalog and inventory)', () => {
  let stack: InProcessStack;
  let api: Api;
  let other: Api;
  let db: DataSource;
  let skus = 0;

  const product = (body: Record<string, unknown> = {}) =>
    api.post('/v1/products', { sku: `SKU-${++skus}`, name: 'Lamp', price: 2500, currency: 'USD', ...body });
  const created = async (body: Record<string, unknown> = {}) => {
    const res = await product(body);
    assert.equal(res.status, 201, res.text);
    return res.body;
  };
  const patch = (client: Api, id: string, body: unknown) =>
    client.request('PATCH', `/v1/products/${id}`, { body });
  const stock = (id: string, delta: unknown, idempotencyKey: string | null = key()) =>
    api.post(
      `/v1/products/${id}/stock`,
      { delta },
      idempotencyKey === null ? {} : { 'idempotency-key': idempotencyKey },
    );
  /** Counters no order moves yet (orders come later): set as a live order and sales would. */
  const setCounters = (id: string, counters: { reserved?: number; sold?: number }) =>
    db.query(
      `UPDATE products SET stock_reserved = coalesce($2, stock_reserved), stock_sold = coalesce($3, stock_sold)
        WHERE id = $1`,
      [id, counters.reserved ?? null, counters.sold ?? null],
    );

  beforeAll(async () => {
    stack = await InProcessStack.start('products', ['gateway']);
    api = new Api(stack.url('gateway'), (await newTenant('Shop')).apiKey);
    other = new Api(stack.url('gateway'), (await newTenant('Other shop')).apiKey);
    db = await openDataSource(1);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack.stop();
  });

  it('creates a product: 201 Product with its stock, Location, and reads it back', async () => {
    const res = await product({
      sku: 'LAMP-1',
      name: 'Red desk lamp',
      description: 'Warm light',
      category: 'lighting',
      price: 2500,
      stock: 10,
      metadata: { color: 'red' },
    });
    assert.equal(res.status, 201, res.text);
    assert.match(res.body.id, /^prod_[0-9A-Z]{26}$/);
    assert.equal(res.headers.get('location'), `/v1/products/${res.body.id}`);
    assert.deepEqual(Object.keys(res.body).sort(), [
      'category',
      'createdAt',
      'currency',
      'description',
      'id',
      'metadata',
      'name',
      'price',
      'purchases',
      'rating',
      'score',
      'sku',
      'status',
      'stock',
      'updatedAt',
    ]);
    assert.equal(res.body.status, 'active');
    assert.equal(res.body.price, 2500);
    assert.deepEqual(res.body.stock, { onHand: 10, reserved: 0, available: 10 });
    assert.deepEqual(res.body.rating, { average: null, count: 0 });
    assert.equal(res.body.purchases, 0);
    assert.deepEqual(res.body.metadata, { color: 'red' });
    const read = await api.get(`/v1/products/${res.body.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual({ ...read.body, score: 0 }, { ...res.body, score: 0 });
    const defaults = await created();
    assert.deepEqual(defaults.stock, { onHand: 0, reserved: 0, available: 0 });
    assert.equal(defaults.description, null);
    assert.equal(defaults.category, null);
  });

  it('a SKU is unique per tenant (409 sku_taken); another tenant may use it', async () => {
    await created({ sku: 'DUP-1' });
    const again = await product({ sku: 'DUP-1', name: 'Other' });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.code, 'sku_taken');
    const theirs = await other.post('/v1/products', {
      sku: 'DUP-1',
      name: 'Theirs',
      price: 1,
      currency: 'USD',
    });
    assert.equal(theirs.status, 201, theirs.text);
  });

  it('refuses bad input with 400 validation_error naming each field, and creates nothing', async () => {
    const before = await db.query(`SELECT count(*)::int AS n FROM products`);
    const cases: [Record<string, unknown>, string][] = [
      [{ price: 25.5 }, 'price'],
      [{ price: '2500' }, 'price'],
      [{ price: 0 }, 'price'],
      [{ stock: -1 }, 'stock'],
      [{ stock: 1.5 }, 'stock'],
      [{ sku: '' }, 'sku'],
      [{ sku: 'x'.repeat(65) }, 'sku'],
      [{ name: 'n'.repeat(201) }, 'name'],
      [{ currency: 'usd' }, 'currency'],
      [{ color: 'red' }, '(body)'],
    ];
    for (const [body, field] of cases) {
      const res = await product(body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.code, 'validation_error');
      assert.ok(
        res.body.errors.some((e: { field: string }) => e.field === field),
        `${JSON.stringify(body)}: ${JSON.stringify(res.body.errors)}`,
      );
    }
    // 1.0 is a float as written, whatever it equals: refused as 1.5 is.
    const float = await api.request('POST', '/v1/products', {
      raw: '{"sku":"FLOAT-1","name":"Lamp","price":1.0,"currency":"USD"}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(float.status, 400, float.text);
    assert.equal(float.body.errors[0].field, 'price');
    const after = await db.query(`SELECT count(*)::int AS n FROM products`);
    assert.equal(after[0].n, before[0].n);
  });

  it("another tenant's product, or an id that is no product's, is 404 product_not_found", async () => {
    const p = await created();
    for (const [client, id] of [
      [other, p.id],
      [api, 'prod_01JD3Z8Q4N6V3F5W7X9Y1A2B3C'],
      [api, 'nonsense'],
    ] as const) {
      const read = await client.get(`/v1/products/${id}`);
      assert.equal(read.status, 404);
      assert.equal(read.body.code, 'product_not_found');
      const changed = await patch(client, id, { name: 'Mine now' });
      assert.equal(changed.status, 404);
    }
    assert.equal((await api.get(`/v1/products/${p.id}`)).body.name, 'Lamp');
  });

  it('PATCH changes only the fields given; archived products leave the default list', async () => {
    const p = await created({ category: 'patch-test', description: 'old' });
    const res = await patch(api, p.id, { price: 3000, description: null });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.price, 3000);
    assert.equal(res.body.description, null);
    assert.equal(res.body.name, 'Lamp');
    assert.equal(res.body.category, 'patch-test');
    const bad = await patch(api, p.id, { status: 'deleted' });
    assert.equal(bad.status, 400);
    const archived = await patch(api, p.id, { status: 'archived' });
    assert.equal(archived.body.status, 'archived');
    const active = await api.get('/v1/products?category=patch-test');
    assert.deepEqual(active.body.data, []);
    const listed = await api.get('/v1/products?category=patch-test&status=archived');
    assert.deepEqual(
      listed.body.data.map((x: { id: string }) => x.id),
      [p.id],
    );
  });

  it('stock: needs an Idempotency-Key; a delta counts once under its key; never below what is reserved', async () => {
    const p = await created({ stock: 5 });
    const keyless = await stock(p.id, 3, null);
    assert.equal(keyless.status, 400);
    assert.equal(keyless.body.code, 'idempotency_key_required');

    const k = key();
    const first = await stock(p.id, 3, k);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body.stock, { onHand: 8, reserved: 0, available: 8 });
    const replay = await stock(p.id, 3, k);
    assert.equal(replay.status, 200);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body.stock, first.body.stock);
    assert.deepEqual((await api.get(`/v1/products/${p.id}`)).body.stock, {
      onHand: 8,
      reserved: 0,
      available: 8,
    });

    for (const delta of [0, 1.5, '3', null]) {
      const res = await stock(p.id, delta);
      assert.equal(res.status, 400, `${delta}: ${res.text}`);
      assert.equal(res.body.errors[0].field, 'delta');
    }

    await setCounters(p.id, { reserved: 6 });
    const tooMuch = await stock(p.id, -3);
    assert.equal(tooMuch.status, 409, tooMuch.text);
    assert.equal(tooMuch.body.code, 'insufficient_stock');
    const writeOff = await stock(p.id, -2);
    assert.equal(writeOff.status, 200, writeOff.text);
    assert.deepEqual(writeOff.body.stock, { onHand: 6, reserved: 6, available: 0 });
    const missing = await stock('prod_01JD3Z8Q4N6V3F5W7X9Y1A2B3C', 1);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'product_not_found');
  });

  it('search: any word order, stemmed, over name, category and description', async () => {
    const category = `search-${Date.now()}`;
    const lamp = await created({ name: 'Red desk lamp', category, description: 'Bright and adjustable' });
    const chair = await created({
      name: 'Office chair',
      category,
      description: 'Comfortable seating for desks',
    });
    await created({ name: 'Blue mug', category });
    const ids = async (q: string) =>
      (
        await api.get(`/v1/products?category=${category}&sort=newest&q=${encodeURIComponent(q)}`)
      ).body.data.map((x: { id: string }) => x.id);
    assert.deepEqual(await ids('lamps red'), [lamp.id]);
    assert.deepEqual(await ids('desks'), [chair.id, lamp.id]);
    assert.deepEqual(await ids('adjusting brightly'), [lamp.id]);
    assert.deepEqual(await ids('seat comfort'), [chair.id]);
    assert.deepEqual(await ids('sofa'), []);
  });

  it('pages every sort without a gap or a repeat, ties broken by id; a cursor of another sort is refused', async () => {
    const category = `paging-${Date.now()}`;
    const prices = [500, 300, 300, 900, 100, 300, 700];
    const made: { id: string; price: number }[] = [];
    for (const price of prices) made.push(await created({ category, price }));
    // Sales for the ranking: a best seller, a runner-up, the rest unsold.
    await db.query(`UPDATE products SET stock_received = 100, stock_sold = 40 WHERE id = $1`, [made[1].id]);
    await db.query(`UPDATE products SET stock_received = 100, stock_sold = 10 WHERE id = $1`, [made[5].id]);

    const all = async (sort: string) => {
      const seen: { id: string; price: number; score: number }[] = [];
      let cursor: string | null = null;
      do {
        const query = `category=${category}&sort=${sort}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await api.get(`/v1/products?${query}`);
        assert.equal(res.status, 200, res.text);
        assert.ok(res.body.data.length <= 3);
        seen.push(...res.body.data);
        cursor = res.body.nextCursor;
      } while (cursor);
      return seen;
    };
    const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const ids = made.map((p) => p.id);

    const newest = await all('newest');
    assert.deepEqual(
      newest.map((p) => p.id),
      [...ids].reverse(),
    );
    const cheap = await all('price_asc');
    assert.deepEqual(
      cheap.map((p) => p.id),
      [...made].sort((a, b) => a.price - b.price || byId(a.id, b.id)).map((p) => p.id),
    );
    const dear = await all('price_desc');
    assert.deepEqual(
      dear.map((p) => p.id),
      [...made].sort((a, b) => b.price - a.price || byId(b.id, a.id)).map((p) => p.id),
    );
    const ranked = await all('ranking');
    assert.equal(ranked.length, made.length);
    assert.deepEqual(new Set(ranked.map((p) => p.id)), new Set(ids));
    // Best seller first, runner-up second (0.5 × 40/40 and 0.5 × 10/40 over equal recency), then
    // the unsold by recency: newest first.
    assert.equal(ranked[0].id, made[1].id);
    assert.equal(ranked[1].id, made[5].id);
    assert.ok(ranked[0].score >= 0.69 && ranked[0].score <= 0.7, `score ${ranked[0].score}`);
    assert.deepEqual(
      ranked.slice(2).map((p) => p.id),
      ids.filter((id) => id !== made[1].id && id !== made[5].id).reverse(),
    );
    // The default sort is the ranking.
    const first = await api.get(`/v1/products?category=${category}`);
    assert.deepEqual(
      first.body.data.map((p: { id: string }) => p.id),
      ranked.map((p) => p.id),
    );

    const page = await api.get(`/v1/products?category=${category}&sort=newest&limit=2`);
    const crossed = await api.get(
      `/v1/products?category=${category}&sort=price_asc&cursor=${page.body.nextCursor}`,
    );
    assert.equal(crossed.status, 400);
    assert.equal(crossed.body.errors[0].field, 'cursor');
    const forged = await api.get(
      `/v1/products?sort=newest&cursor=${Buffer.from('v1:{"sort":"newest"}').toString('base64url')}`,
    );
    assert.equal(forged.status, 400);
    const bad = await api.get(`/v1/products?sort=cheapest`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].field, 'sort');
  });
});
