import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, TcpProxy, metricSum, openDataSource, waitFor } from '#test-support';
import type { CacheSlot } from '#persistence';
import { ProductCache, PRODUCT_CACHE_STORE } from '../../apps/gateway/src/products/product-cache.js';
import type { ProductCacheStore } from '#persistence';
import { InProcessStack, newTenant } from '../support/in-process.js';

const REDIS_PORT = 6379;
const key = () => `pc-${randomBytes(6).toString('hex')}`;

/**
 * The product cache (docs/architecture.md, "Product cache"): one database load for 200 cold reads
 * at once, every write (PATCH, stock, rating, an order placed and completed by the worker) visible
 * on the very next read, no stale fill when a write lands between a load and its fill, and reads
 * still answered by PostgreSQL while Redis is cut — with nothing stale once it is back. Real
 * PostgreSQL and Redis, behind a TCP proxy the test can cut.
 */
describe('product cache: cache-aside in Redis, never stale after a write', () => {
  const proxy = new TcpProxy(REDIS_PORT);
  const prefix = `test-${randomBytes(4).toString('hex')}:`;
  let shop: InProcessStack;
  let api: Api;
  let db: DataSource;
  let gateway: string;

  const metric = (name: string, cache: 'product' | 'list') =>
    metricSum(gateway, `tally_cache_${name}_total`, `cache="${cache}"`);
  const cache = () => shop.app('gateway').get(ProductCache);
  const store = () => shop.app('gateway').get<symbol, ProductCacheStore>(PRODUCT_CACHE_STORE);

  const newProduct = async (price = 1000, stock = 50) => {
    const res = await api.post('/v1/products', {
      sku: `PC-${randomBytes(4).toString('hex')}`,
      name: 'Cached lamp',
      price,
      currency: 'USD',
      stock,
    });
    assert.equal(res.status, 201, res.text);
    return res.body.id as string;
  };
  const read = async (id: string) => {
    const res = await api.get(`/v1/products/${id}`);
    assert.equal(res.status, 200, res.text);
    return res.body;
  };
  /** Reads twice and shows the second came from the cache: the product is warm. */
  const warm = async (id: string) => {
    await read(id);
    const hits = await metric('hits', 'product');
    const body = await read(id);
    assert.equal(await metric('hits', 'product'), hits + 1, 'the second read is a cache hit');
    return body;
  };
  const patch = async (id: string, body: Record<string, unknown>) => {
    const res = await api.request('PATCH', `/v1/products/${id}`, { body });
    assert.equal(res.status, 200, res.text);
  };

  beforeAll(async () => {
    shop = await InProcessStack.start('product-cache', ['gateway', 'transaction-worker'], {
      RATE_LIMIT_ENABLED: 'false',
      REDIS_URL: `redis://127.0.0.1:${await proxy.start()}`,
      REDIS_KEY_PREFIX: prefix,
      REDIS_TIMEOUT_MS: '500',
      PRODUCT_CACHE: 'on',
      PRODUCT_CACHE_TTL_SECONDS: '600',
    });
    gateway = shop.url('gateway');
    api = new Api(gateway, (await newTenant('Cache shop')).apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db?.destroy();
    await shop?.stop();
    await proxy.close();
  });

  it('200 concurrent reads of a cold product make one database load', async () => {
    const id = await newProduct(1234);
    const loads = await metric('loads', 'product');
    const misses = await metric('misses', 'product');
    const bodies = await Promise.all(Array.from({ length: 200 }, () => read(id)));
    assert.equal(await metric('loads', 'product'), loads + 1);
    assert.ok((await metric('misses', 'product')) > misses);
    for (const body of bodies) assert.deepEqual(body, bodies[0]);
    assert.equal(bodies[0].price, 1234);
    const hits = await metric('hits', 'product');
    assert.deepEqual(await read(id), bodies[0]);
    assert.equal(await metric('hits', 'product'), hits + 1, 'then answered from Redis');
    assert.equal(await metric('loads', 'product'), loads + 1);
  });

  it('a price change is visible on the very next read, of the product and of the list', async () => {
    const id = await newProduct(1000);
    await warm(id);
    const list = async () => {
      const res = await api.get('/v1/products?limit=100');
      assert.equal(res.status, 200, res.text);
      return (res.body.data as { id: string; price: number }[]).find((p) => p.id === id)?.price;
    };
    assert.equal(await list(), 1000);
    const listHits = await metric('hits', 'list');
    assert.equal(await list(), 1000);
    assert.equal(await metric('hits', 'list'), listHits + 1, 'the ranking page is cached');
    await patch(id, { price: 2200 });
    assert.equal((await read(id)).price, 2200);
    assert.equal(await list(), 2200);
  });

  it('a stock change is visible on the very next read', async () => {
    const id = await newProduct(1000, 50);
    assert.equal((await warm(id)).stock.onHand, 50);
    const res = await api.post(`/v1/products/${id}/stock`, { delta: 25 }, { 'idempotency-key': key() });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((await read(id)).stock, { onHand: 75, reserved: 0, available: 75 });
  });

  it('an order placed, completed by the worker, then rated: each visible on the very next read', async () => {
    const id = await newProduct(100, 10);
    const buyer = await api.account({ currency: 'USD' });
    await api.deposit(buyer, 10_000);
    await warm(id);
    const placed = await api.post(
      '/v1/orders',
      { accountId: buyer, items: [{ productId: id, quantity: 3 }] },
      { 'idempotency-key': key() },
    );
    assert.equal(placed.status, 201, placed.text);
    const orderId = placed.body.id as string;
    // The worker may complete it at once; the read shows either step, never the stock before.
    const afterPlacing = await read(id);
    assert.ok(
      afterPlacing.stock.reserved === 3 || afterPlacing.purchases === 3,
      JSON.stringify(afterPlacing.stock),
    );
    await warm(id);
    await waitFor('the order completed', async () => {
      const res = await api.get(`/v1/orders/${orderId}`);
      return res.body.status === 'completed';
    });
    const done = await read(id);
    assert.equal(done.purchases, 3);
    assert.deepEqual(done.stock, { onHand: 7, reserved: 0, available: 7 });

    await warm(id);
    const rated = await api.post(`/v1/products/${id}/ratings`, { accountId: buyer, rating: 4 });
    assert.equal(rated.status, 201, rated.text);
    assert.deepEqual((await read(id)).rating, { average: 4, count: 1 });
  });

  it('a load that started before a write never fills the cache after it (forced interleaving)', async () => {
    const id = await newProduct(500);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let loaded!: () => void;
    const loadedOld = new Promise<void>((r) => (loaded = r));
    cache().beforeFill = async (slot: CacheSlot) => {
      if (!slot.entry.includes(id)) return;
      cache().beforeFill = undefined; // only the first load waits
      loaded();
      await released;
    };
    const refused = await metric('fills_refused', 'product');
    try {
      const first = read(id); // misses, loads price 500, then waits before its fill
      await loadedOld;
      await patch(id, { price: 700 }); // the write answers while that load waits to fill
      // A read after the write must not join the old load: it sees the new version, loads anew.
      assert.equal((await read(id)).price, 700);
      release();
      assert.equal((await first).price, 500, 'the first read began before the write');
    } finally {
      cache().beforeFill = undefined;
      release();
    }
    assert.equal(await metric('fills_refused', 'product'), refused + 1, 'the old value was not stored');
    assert.equal((await read(id)).price, 700);
    assert.equal((await read(id)).price, 700);
  });

  it('Redis cut: reads still 200 from PostgreSQL; back, nothing stale is served', async () => {
    const id = await newProduct(300);
    await warm(id);
    const errors = await metricSum(gateway, 'tally_cache_errors_total');
    proxy.cut();
    try {
      assert.equal((await read(id)).price, 300);
      await patch(id, { price: 333 }); // its invalidation cannot reach Redis
      assert.equal((await read(id)).price, 333);
      const list = await api.get('/v1/products');
      assert.equal(list.status, 200, list.text);
      assert.ok((await metricSum(gateway, 'tally_cache_errors_total')) > errors);
      assert.ok(store().pendingInvalidations > 0, 'the failed invalidation waits to be retried');
    } finally {
      proxy.restore();
    }
    // Redis still holds the entry with price 300: the retried invalidation must drop it first.
    await waitFor('the invalidation delivered', () => store().pendingInvalidations === 0, 30_000);
    assert.equal((await read(id)).price, 333);
    const hits = await metric('hits', 'product');
    assert.equal((await read(id)).price, 333);
    assert.equal(await metric('hits', 'product'), hits + 1, 'cached again once Redis is back');
  });

  it('Redis silent (commands time out): reads and writes still 200, nothing stale after', async () => {
    const id = await newProduct(400);
    await warm(id);
    proxy.stall();
    try {
      assert.equal((await read(id)).price, 400);
      await patch(id, { price: 444 });
      assert.equal((await read(id)).price, 444);
    } finally {
      proxy.restore();
    }
    await waitFor('the invalidation delivered', () => store().pendingInvalidations === 0, 30_000);
    assert.equal((await read(id)).price, 444);
  });

  it('Redis unreachable from the start: a gateway still serves reads and writes from PostgreSQL', async () => {
    const { url } = await shop.startExtra('gateway', { REDIS_URL: 'redis://127.0.0.1:1' });
    const alone = new Api(url, api.apiKey);
    const id = await newProduct(900);
    for (let i = 0; i < 3; i++) {
      const res = await alone.get(`/v1/products/${id}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.price, 900);
    }
    const changed = await alone.request('PATCH', `/v1/products/${id}`, { body: { price: 990 } });
    assert.equal(changed.status, 200, changed.text);
    assert.equal((await alone.get(`/v1/products/${id}`)).body.price, 990);
    assert.equal((await alone.get('/v1/products')).status, 200);
    assert.ok((await metricSum(url, 'tally_cache_errors_total')) > 0, 'the failures are counted');
  });
});
