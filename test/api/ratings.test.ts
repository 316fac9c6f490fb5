import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, inParallel, openDataSource, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const key = () => `r-${randomBytes(6).toString('hex')}`;

/**
 * Ratings (docs/api.md, Commerce: ratings and discovery) and the ranking they feed: buyers only,
 * one rating per account and product, the product's average and count in step with its ratings,
 * and `score = 0.5 × popularity + 0.3 × rating + 0.2 × recency` checked against a catalog whose
 * scores are worked out by hand below.
 */
describe('ratings: buyers rate, the product keeps its average, the ranking follows', () => {
  let shop: InProcessStack;
  let api: Api;
  let other: Api;
  let db: DataSource;
  let skus = 0;

  const product = async (client: Api, body: Record<string, unknown> = {}) => {
    const res = await client.post('/v1/products', {
      sku: `SKU-${++skus}-${randomBytes(3).toString('hex')}`,
      name: 'Lamp',
      price: 100,
      currency: 'USD',
      stock: 50,
      ...body,
    });
    assert.equal(res.status, 201, res.text);
    return res.body.id as string;
  };
  const buyer = async (client: Api) => {
    const account = await client.account({ currency: 'USD' });
    await client.deposit(account, 10_000, 'USD');
    return account;
  };
  /** An order of one unit of each product, waited for until the worker has completed it. */
  const buy = async (client: Api, account: string, ...products: string[]) => {
    const res = await client.post(
      '/v1/orders',
      { accountId: account, items: products.map((productId) => ({ productId, quantity: 1 })) },
      { 'idempotency-key': key() },
    );
    assert.equal(res.status, 201, res.text);
    const done = await waitFor(
      `order ${res.body.id} final`,
      async () => {
        const o = (await client.get(`/v1/orders/${res.body.id}`)).body;
        return o.status === 'reserved' ? undefined : o;
      },
      20_000,
    );
    assert.equal(done.status, 'completed', JSON.stringify(done));
  };
  const rate = (client: Api, productId: string, body: Record<string, unknown>, headers = {}) =>
    client.post(`/v1/products/${productId}/ratings`, body, headers);
  const ratingOf = async (client: Api, productId: string) =>
    (await client.get(`/v1/products/${productId}`)).body.rating;

  beforeAll(async () => {
    shop = await InProcessStack.start('ratings', ['gateway', 'transaction-worker']);
    api = new Api(shop.url('gateway'), (await newTenant('Rated shop')).apiKey);
    other = new Api(shop.url('gateway'), (await newTenant('Other shop')).apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db?.destroy();
    await shop?.stop();
  });

  it('a buyer rates (201), rates again (200, replacing), and the average and count follow', async () => {
    const lamp = await product(api);
    const [ana, ben] = [await buyer(api), await buyer(api)];
    await buy(api, ana, lamp);
    await buy(api, ben, lamp);
    assert.deepEqual(await ratingOf(api, lamp), { average: null, count: 0 });

    const first = await rate(api, lamp, { accountId: ana, rating: 5, comment: 'Warm light.' });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.productId, lamp);
    assert.equal(first.body.accountId, ana);
    assert.equal(first.body.rating, 5);
    assert.equal(first.body.comment, 'Warm light.');
    assert.deepEqual(await ratingOf(api, lamp), { average: 5, count: 1 });

    assert.equal((await rate(api, lamp, { accountId: ben, rating: 2 })).status, 201);
    assert.deepEqual(await ratingOf(api, lamp), { average: 3.5, count: 2 });

    const again = await rate(api, lamp, { accountId: ana, rating: 3 });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.rating, 3);
    assert.equal(again.body.comment, null);
    assert.equal(again.body.createdAt, first.body.createdAt);
    assert.deepEqual(await ratingOf(api, lamp), { average: 2.5, count: 2 });

    // Three ratings 5, 4, 4 average 4.333…: shown to two decimals.
    const cup = await product(api);
    const buyers = [await buyer(api), await buyer(api), await buyer(api)];
    for (const b of buyers) await buy(api, b, cup);
    for (const [i, b] of buyers.entries()) {
      assert.equal((await rate(api, cup, { accountId: b, rating: [5, 4, 4][i] })).status, 201);
    }
    assert.deepEqual(await ratingOf(api, cup), { average: 4.33, count: 3 });
  });

  it('a retried rating with the same Idempotency-Key answers the first answer and counts once', async () => {
    const lamp = await product(api);
    const ana = await buyer(api);
    await buy(api, ana, lamp);
    const k = key();
    const first = await rate(api, lamp, { accountId: ana, rating: 4 }, { 'idempotency-key': k });
    const retry = await rate(api, lamp, { accountId: ana, rating: 4 }, { 'idempotency-key': k });
    assert.equal(first.status, 201);
    assert.equal(retry.status, 201);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await ratingOf(api, lamp), { average: 4, count: 1 });
  });

  it('forty buyers rating at once: every rating counted, the tally equals the ratings', async () => {
    const lamp = await product(api, { stock: 100 });
    const buyers: string[] = [];
    for (let i = 0; i < 40; i++) buyers.push(await buyer(api));
    await inParallel(buyers.length, 8, (i) => buy(api, buyers[i], lamp));
    const stars = buyers.map((_, i) => (i % 5) + 1);
    const answers = await inParallel(buyers.length, 40, (i) =>
      rate(api, lamp, { accountId: buyers[i], rating: stars[i] }),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      buyers.map(() => 201),
    );
    // Each rates again at once, all to 5: replaced, not added.
    const again = await inParallel(buyers.length, 40, (i) =>
      rate(api, lamp, { accountId: buyers[i], rating: 5 }),
    );
    assert.ok(again.every((a) => a.status === 200));
    assert.deepEqual(await ratingOf(api, lamp), { average: 5, count: 40 });
    const [row] = await db.query(
      `SELECT p.rating_count::int AS count, p.rating_total::int AS total,
              (SELECT count(*)::int FROM product_ratings r WHERE r.product_id = p.id) AS rows,
              (SELECT sum(rating)::int FROM product_ratings r WHERE r.product_id = p.id) AS sum
         FROM products p WHERE p.id = $1`,
      [lamp],
    );
    assert.deepEqual(row, { count: 40, total: 200, rows: 40, sum: 200 });
  });

  it('refuses, changing nothing: not a buyer of this product, unknown ids, bad input', async () => {
    const lamp = await product(api);
    const mug = await product(api);
    const ana = await buyer(api);
    await buy(api, ana, mug);
    const cases: [string, Api, string, Record<string, unknown>, number, string][] = [
      ['bought another product', api, lamp, { accountId: ana, rating: 5 }, 422, 'not_purchased'],
      [
        'unknown product',
        api,
        'prod_01JD3Z8Q4N6V3F5W7X9Y1A2B3C',
        { accountId: ana, rating: 5 },
        404,
        'product_not_found',
      ],
      ['not a product id', api, 'acc_nothing', { accountId: ana, rating: 5 }, 404, 'product_not_found'],
      ["another tenant's product", other, mug, { accountId: ana, rating: 5 }, 404, 'product_not_found'],
      [
        'unknown account',
        api,
        mug,
        { accountId: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C', rating: 5 },
        404,
        'account_not_found',
      ],
      ['rating 0', api, mug, { accountId: ana, rating: 0 }, 400, 'validation_error'],
      ['rating 6', api, mug, { accountId: ana, rating: 6 }, 400, 'validation_error'],
      ['rating 4.5', api, mug, { accountId: ana, rating: 4.5 }, 400, 'validation_error'],
      ['rating as text', api, mug, { accountId: ana, rating: '5' }, 400, 'validation_error'],
      ['no rating', api, mug, { accountId: ana }, 400, 'validation_error'],
      ['no account', api, mug, { rating: 5 }, 400, 'validation_error'],
      [
        'comment too long',
        api,
        mug,
        { accountId: ana, rating: 5, comment: 'x'.repeat(2_001) },
        400,
        'validation_error',
      ],
      ['unknown field', api, mug, { accountId: ana, rating: 5, stars: 5 }, 400, 'validation_error'],
    ];
    for (const [name, client, productId, body, status, code] of cases) {
      const res = await rate(client, productId, body);
      assert.equal(res.status, status, `${name}: ${res.text}`);
      assert.equal(res.body.code, code, name);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/, name);
    }
    assert.deepEqual(await ratingOf(api, lamp), { average: null, count: 0 });
    assert.deepEqual(await ratingOf(api, mug), { average: null, count: 0 });
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM product_ratings WHERE product_id = ANY($1::text[])`,
      [[lamp, mug]],
    );
    assert.equal(n, 0);
  });

  it('ranks a hand-worked catalog: order and every score as the formula gives them', async () => {
    const shopApi = new Api(shop.url('gateway'), (await newTenant('Ranked shop')).apiKey);
    // What each product is made to be: units sold, age in days, ratings (from real buyers).
    const plan = {
      A: { sold: 10, days: 0, ratings: [] as number[] },
      B: { sold: 5, days: 15, ratings: [5, 3] },
      C: { sold: 5, days: 3, ratings: [] },
      D: { sold: 5, days: 20, ratings: [] },
      E: { sold: 2, days: 45, ratings: [5] },
      G: { sold: 0, days: 40, ratings: [] },
      H: { sold: 0, days: 35, ratings: [] },
    };
    const ids: Record<string, string> = {};
    for (const name of Object.keys(plan)) ids[name] = await product(shopApi, { name: `Product ${name}` });
    // An archived best seller: neither listed nor the measure of popularity (active catalog only).
    const archived = await product(shopApi, { name: 'Old hit' });
    for (const [name, p] of Object.entries(plan)) {
      for (const stars of p.ratings) {
        const b = await buyer(shopApi);
        await buy(shopApi, b, ids[name]);
        assert.equal((await rate(shopApi, ids[name], { accountId: b, rating: stars })).status, 201);
      }
    }
    assert.equal(
      (await shopApi.request('PATCH', `/v1/products/${archived}`, { body: { status: 'archived' } })).status,
      200,
    );
    // Sales and ages set straight in the table: the ranking reads these columns, nothing else.
    for (const [name, p] of Object.entries(plan)) {
      await db.query(
        `UPDATE products SET stock_received = 100, stock_sold = $2, stock_reserved = 0,
                created_at = now() - make_interval(days => $3) WHERE id = $1`,
        [ids[name], p.sold, p.days],
      );
    }
    await db.query(`UPDATE products SET stock_received = 500, stock_sold = 100 WHERE id = $1`, [archived]);

    // By hand: best seller (active) sold 10.
    //   A: 0.5×10/10 + 0             + 0.2×(1 − 0/30)  = 0.7
    //   B: 0.5×5/10  + 0.3×(4/5)     + 0.2×(1 − 15/30) = 0.25 + 0.24 + 0.1    = 0.59
    //   C: 0.5×5/10  + 0             + 0.2×(1 − 3/30)  = 0.25 + 0.18          = 0.43
    //   E: 0.5×2/10  + 0.3×(5/5)     + 0 (45 days)     = 0.1 + 0.3            = 0.4
    //   D: 0.5×5/10  + 0             + 0.2×(1 − 20/30) = 0.25 + 0.0667        = 0.3167
    //   H, G: 0 — a tie, newest (H, 35 days) first.
    const expected = [
      ['A', 0.7],
      ['B', 0.59],
      ['C', 0.43],
      ['E', 0.4],
      ['D', 0.3167],
      ['H', 0],
      ['G', 0],
    ] as const;
    const res = await shopApi.get('/v1/products?limit=50');
    assert.equal(res.status, 200, res.text);
    const shown = res.body.data as { id: string; score: number; purchases: number }[];
    const names = Object.fromEntries(Object.entries(ids).map(([n, id]) => [id, n]));
    assert.deepEqual(
      shown.map((p) => names[p.id]),
      expected.map(([n]) => n),
    );
    for (const [i, [name, score]] of expected.entries()) {
      // Seconds pass between setting the ages and reading: recency moves by < 0.000001 then.
      assert.ok(Math.abs(shown[i].score - score) <= 0.0001, `${name}: ${shown[i].score} ≠ ${score}`);
    }
    // A newer product overtakes an older one with equal sales (C over D), and ratings lift an
    // older product with fewer sales over a newer unrated one (E over D).
    assert.equal((await shopApi.get(`/v1/products/${ids.B}`)).body.rating.average, 4);

    // A rating moves the ranking at once: D gets a buyer (6 sold) who rates it 5 ⇒
    // D = 0.5×6/10 + 0.3×5/5 + 0.0667 = 0.6667, above B (0.59), below A (0.7).
    const d = await buyer(shopApi);
    await buy(shopApi, d, ids.D);
    assert.equal((await rate(shopApi, ids.D, { accountId: d, rating: 5 })).status, 201);
    const after = (await shopApi.get('/v1/products?limit=3')).body.data as { id: string; score: number }[];
    assert.deepEqual(
      after.map((p) => names[p.id]),
      ['A', 'D', 'B'],
    );
    assert.ok(Math.abs(after[1].score - 0.6667) <= 0.0001, `D: ${after[1].score}`);
  });
});
