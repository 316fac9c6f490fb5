import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { BoughtTogether } from '#persistence';
import { Api, TcpProxy, inParallel, openDataSource, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const REDIS_PORT = 6379;
const key = () => `b-${randomBytes(6).toString('hex')}`;

/**
 * "Bought together" and "recommended for you" (docs/api.md, Commerce: ratings and discovery) after
 * 50 orders with known baskets, counted by the job the worker runs (driven here by the test, not
 * by its timer), answered from Redis and — Redis flushed or cut — the same from PostgreSQL.
 */
describe('bought together and recommendations: hand-counted, from Redis or PostgreSQL', () => {
  const proxy = new TcpProxy(REDIS_PORT);
  const prefix = `test-${randomBytes(4).toString('hex')}:`;
  let shop: InProcessStack;
  let api: Api;
  let db: DataSource;
  let redis: Redis;
  const p: Record<string, string> = {};
  const accounts: Record<string, string> = {};

  /** The worker's own job (the provider its timer runs). */
  const job = () => shop.app('transaction-worker').get(BoughtTogether);
  const alsoBought = async (name: string, limit?: number) => {
    const res = await api.get(`/v1/products/${p[name]}/also-bought${limit ? `?limit=${limit}` : ''}`);
    assert.equal(res.status, 200, res.text);
    return (res.body.data as { product: { id: string }; count: number }[]).map(
      (i) => `${nameOf(i.product.id)}:${i.count}`,
    );
  };
  const recommended = async (account: string) => {
    const res = await api.get(`/v1/accounts/${accounts[account]}/recommendations`);
    assert.equal(res.status, 200, res.text);
    return (res.body.data as { product: { id: string }; strength: number }[]).map(
      (i) => `${nameOf(i.product.id)}:${i.strength}`,
    );
  };
  const nameOf = (id: string) => Object.keys(p).find((n) => p[n] === id) ?? id;
  const placeAll = async (orders: [account: string, basket: string[]][]) => {
    const ids = await inParallel(orders.length, 10, async (i) => {
      const [account, basket] = orders[i];
      const res = await api.post(
        '/v1/orders',
        { accountId: accounts[account], items: basket.map((n) => ({ productId: p[n], quantity: 1 })) },
        { 'idempotency-key': key() },
      );
      assert.equal(res.status, 201, res.text);
      return res.body.id as string;
    });
    await waitFor(
      'every order completed',
      async () => {
        const [{ open }] = await db.query(
          `SELECT count(*) FILTER (WHERE status <> 'completed')::int AS open FROM orders WHERE id = ANY($1::text[])`,
          [ids],
        );
        return open === 0 ? true : undefined;
      },
      60_000,
    );
  };
  /** This shop's completed orders the job has not counted yet. */
  const unpaired = async () => {
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM orders
        WHERE account_id = ANY($1::text[]) AND status = 'completed' AND paired_at IS NULL`,
      [Object.values(accounts)],
    );
    return n as number;
  };
  /** Every answer of the two routes, as the client sees them. */
  const everything = async () => ({
    P1: await alsoBought('P1'),
    P2: await alsoBought('P2'),
    P3: await alsoBought('P3'),
    P5: await alsoBought('P5'),
    P6: await alsoBought('P6'),
    A: await recommended('A'),
    B: await recommended('B'),
    C: await recommended('C'),
  });

  // Counted by hand from the baskets below (20 {P1,P2} by A, 10 {P1,P3} by D, 10 {P1,P2,P4} by E,
  // 5 {P3,P5} by B, 5 {P6} by C): P1–P2 30, P1–P3 10, P1–P4 10, P2–P4 10, P3–P5 5.
  // Ties (P3 and P4 for P1, both 10) go by score: P3 sold 15 units, P4 10, so P3 first.
  // A bought P1, P2 ⇒ P4: 10 (with P1) + 10 (with P2) = 20, P3: 10 (with P1). B bought P3, P5 ⇒
  // P1: 10 (with P3). C bought only P6, which nothing was bought with ⇒ nothing.
  const HAND_COUNTED = {
    P1: ['P2:30', 'P3:10', 'P4:10'],
    P2: ['P1:30', 'P4:10'],
    P3: ['P1:10', 'P5:5'],
    P5: ['P3:5'],
    P6: [],
    A: ['P4:20', 'P3:10'],
    B: ['P1:10'],
    C: [],
  };

  beforeAll(async () => {
    shop = await InProcessStack.start('recommendations', ['gateway', 'transaction-worker'], {
      RATE_LIMIT_ENABLED: 'false',
      REDIS_URL: `redis://127.0.0.1:${await proxy.start()}`,
      REDIS_KEY_PREFIX: prefix,
      REDIS_TIMEOUT_MS: '1000',
      // The test runs the job itself: its timer never fires during the test.
      RECOMMENDATIONS_INTERVAL: '86400',
    });
    api = new Api(shop.url('gateway'), (await newTenant('Basket shop')).apiKey);
    db = await openDataSource(2);
    redis = new Redis(REDIS_PORT, '127.0.0.1');
    for (const name of ['P1', 'P2', 'P3', 'P4', 'P5', 'P6']) {
      const res = await api.post('/v1/products', {
        sku: `${name}-${randomBytes(3).toString('hex')}`,
        name: `Product ${name}`,
        price: 10,
        currency: 'USD',
        stock: 100,
      });
      assert.equal(res.status, 201, res.text);
      p[name] = res.body.id;
    }
    for (const name of ['A', 'B', 'C', 'D', 'E']) {
      accounts[name] = await api.account({ currency: 'USD' });
      await api.deposit(accounts[name], 10_000);
    }
    const baskets: [string, string[]][] = [
      ...Array.from({ length: 20 }, (): [string, string[]] => ['A', ['P1', 'P2']]),
      ...Array.from({ length: 10 }, (): [string, string[]] => ['D', ['P1', 'P3']]),
      ...Array.from({ length: 10 }, (): [string, string[]] => ['E', ['P1', 'P2', 'P4']]),
      ...Array.from({ length: 5 }, (): [string, string[]] => ['B', ['P3', 'P5']]),
      ...Array.from({ length: 5 }, (): [string, string[]] => ['C', ['P6']]),
    ];
    await placeAll(baskets);
  });
  afterAll(async () => {
    const keys = redis ? await redis.keys(`${prefix}*`) : [];
    if (keys.length > 0) await redis.del(...keys);
    redis?.disconnect();
    await db?.destroy();
    await shop?.stop();
    await proxy.close();
  });

  it('answers nothing before the job has run, then the hand-counted neighbours once it has', async () => {
    assert.deepEqual(await alsoBought('P1'), []);
    assert.deepEqual(await recommended('A'), []);

    // The job counts every tenant's orders (other test files' too): what is checked is this shop's.
    const run = await job().run();
    assert.ok(run.orders >= 50, `counted ${run.orders}`);
    assert.equal(run.syncError, undefined);
    assert.equal(await unpaired(), 0);
    assert.deepEqual(await everything(), HAND_COUNTED);
    assert.deepEqual(await alsoBought('P1', 1), ['P2:30']);

    // Redis holds each product's neighbours as a sorted set.
    assert.deepEqual(await redis.zrange(`${prefix}ab:${p.P2}`, 0, -1, 'REV', 'WITHSCORES'), [
      p.P1,
      '30',
      p.P4,
      '10',
    ]);
    // A second run changes nothing here: every order is counted once.
    await job().run();
    assert.deepEqual(await everything(), HAND_COUNTED);
  });

  it('the same answers from PostgreSQL when Redis is flushed, and when it cannot be reached', async () => {
    const keys = await redis.keys(`${prefix}ab:*`);
    assert.ok(keys.length > 0);
    await redis.del(...keys);
    assert.deepEqual(await everything(), HAND_COUNTED);

    proxy.cut();
    try {
      assert.deepEqual(await everything(), HAND_COUNTED);
    } finally {
      proxy.restore();
    }
  });

  it('Redis is proven to be read: a set changed behind the job changes the answer', async () => {
    // After the cut above, both apps' Redis connections come back on their own (within seconds).
    const copied = async () => ((await job().rebuild()).syncError ? undefined : true);
    await waitFor('the job copies to Redis again', copied, 20_000);
    await redis.zadd(`${prefix}ab:${p.P5}`, '99', p.P6);
    const fromRedis = await waitFor(
      'the gateway reads Redis again',
      async () => {
        const answer = await alsoBought('P5');
        return answer[0] === 'P6:99' ? answer : undefined;
      },
      20_000,
    );
    assert.deepEqual(fromRedis, ['P6:99', 'P3:5']);
    await waitFor('the job copies to Redis again', copied, 20_000);
    assert.deepEqual(await redis.zrange(`${prefix}ab:${p.P5}`, 0, -1, 'WITHSCORES'), [p.P3, '5']);
    assert.deepEqual(await alsoBought('P5'), ['P3:5']);
  });

  it('counts new orders incrementally; Redis down only delays its copy', async () => {
    proxy.cut();
    try {
      await placeAll([['C', ['P5', 'P6']]]);
      const run = await job().run();
      assert.equal(await unpaired(), 0);
      assert.ok(run.syncError, 'the copy to Redis failed');
      // PostgreSQL has the new count at once; the gateway answers from it while Redis is away.
      assert.deepEqual(await alsoBought('P6'), ['P5:1']);
    } finally {
      proxy.restore();
    }
    await waitFor(
      'Redis reachable again',
      async () => ((await job().run()).syncError ? undefined : true),
      20_000,
    );
    assert.deepEqual(await redis.zrange(`${prefix}ab:${p.P6}`, 0, -1, 'WITHSCORES'), [p.P5, '1']);
    assert.deepEqual(await alsoBought('P6'), ['P5:1']);
    assert.deepEqual(await alsoBought('P5'), ['P3:5', 'P6:1']);
    // C has bought P5 now too: P3 comes with P5 (5).
    assert.deepEqual(await recommended('C'), ['P3:5']);
  });

  it('one runner at a time, in batches: a rebuild beside two runs and small batches counts each order once', async () => {
    const small = new BoughtTogether(db, null, 7);
    await Promise.all([job().rebuild(), small.run(), job().run()]);
    // Whichever got the job's lock, finish: every order counted, none twice.
    await small.run();
    await job().run();
    const [pair] = await db.query(
      `SELECT count::int AS n FROM product_pairs WHERE product_id = $1 AND other_id = $2`,
      [p.P1, p.P2],
    );
    assert.equal(pair.n, 30);
    assert.equal(await unpaired(), 0);
    // From scratch in batches of 7 (the CLI's rebuild, with a small batch): the same counts.
    await small.rebuild();
    await job().run();
    assert.deepEqual(
      { P1: await alsoBought('P1'), A: await recommended('A') },
      { P1: HAND_COUNTED.P1, A: HAND_COUNTED.A },
    );
  });

  it('refuses unknown products and accounts (404) and a bad limit (400)', async () => {
    const cases: [string, number, string][] = [
      ['/v1/products/prod_01JD3Z8Q4N6V3F5W7X9Y1A2B3C/also-bought', 404, 'product_not_found'],
      ['/v1/products/nothing/also-bought', 404, 'product_not_found'],
      ['/v1/accounts/acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C/recommendations', 404, 'account_not_found'],
      [`/v1/products/${p.P1}/also-bought?limit=0`, 400, 'validation_error'],
      [`/v1/products/${p.P1}/also-bought?limit=51`, 400, 'validation_error'],
      [`/v1/accounts/${accounts.A}/recommendations?limit=x`, 400, 'validation_error'],
    ];
    for (const [path, status, code] of cases) {
      const res = await api.get(path);
      assert.equal(res.status, status, `${path}: ${res.text}`);
      assert.equal(res.body.code, code, path);
    }
    const other = new Api(shop.url('gateway'), (await newTenant('Other basket shop')).apiKey);
    assert.equal((await other.get(`/v1/products/${p.P1}/also-bought`)).status, 404);
    assert.equal((await other.get(`/v1/accounts/${accounts.A}/recommendations`)).status, 404);
  });
});
