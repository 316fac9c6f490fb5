import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import type { DataSource } from 'typeorm';
import { Api, openDataSource, routesOf, send, waitFor, type ApiResponse, type Route } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const SECRET = 'customer-token-secret-for-tests-0123456789';
const key = () => `cs-${randomBytes(6).toString('hex')}`;
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Pair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

const problem = (res: ApiResponse) => ({
  status: res.status,
  type: res.headers.get('content-type')?.split(';')[0],
  code: res.body?.code,
});

/** A token signed with the gateway's own key from `claims` (an expired one, a wrong audience). */
const signed = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header })
    .sign(new TextEncoder().encode(SECRET));

/**
 * Storefront sessions (docs/api.md, "Customer sessions"): every route of the gateway, read from its
 * controllers, against every kind of credential — so a route added without a decision fails here.
 */
describe('customer sessions', () => {
  let stack: InProcessStack;
  let db: DataSource;
  let api: Api;
  let gateway: string;
  const ids = {} as Record<
    'owner' | 'other' | 'product' | 'completed' | 'reserved' | 'othersOrder' | 'foreignAccount',
    string
  >;
  let owner: Pair;
  let other: Pair;

  const open = async (accountId: string, client = api): Promise<Pair> => {
    const res = await client.post('/v1/customer-sessions', { accountId });
    assert.equal(res.status, 201, res.text);
    return res.body;
  };
  const refresh = (refreshToken: string, headers: Record<string, string> = {}) =>
    send(
      gateway,
      'POST',
      '/v1/customer-sessions/refresh',
      { 'content-type': 'application/json', ...headers },
      JSON.stringify({ refreshToken }),
    );
  const as = (token: string) => new Api(gateway, token);
  const placeOrder = async (accountId: string) => {
    const res = await api.post(
      '/v1/orders',
      { accountId, items: [{ productId: ids.product, quantity: 1 }] },
      { 'idempotency-key': key() },
    );
    assert.equal(res.status, 201, res.text);
    return res.body.id as string;
  };

  beforeAll(async () => {
    stack = await InProcessStack.start('custsess', ['gateway'], {
      CUSTOMER_TOKEN_SECRET: SECRET,
      RATE_LIMIT_CUSTOMER_BURST: '1000000',
      RATE_LIMIT_REFRESH_PER_MINUTE: '1000000',
    });
    gateway = stack.url('gateway');
    db = await openDataSource(2);
    api = new Api(gateway, (await newTenant('storefront')).apiKey);
    // The worker funds the wallets and completes one order (a purchase to rate), then stops:
    // the orders placed after it stay `reserved`, so the owner can cancel one.
    await stack.startExtra('transaction-worker');
    ids.owner = await api.account();
    ids.other = await api.account();
    await api.deposit(ids.owner, 100_000);
    await api.deposit(ids.other, 100_000);
    const product = await api.post('/v1/products', {
      sku: `CS-${randomBytes(4).toString('hex')}`,
      name: 'Lamp',
      price: 250,
      currency: 'USD',
      stock: 1000,
    });
    assert.equal(product.status, 201, product.text);
    ids.product = product.body.id;
    ids.completed = await placeOrder(ids.owner);
    await waitFor(
      'the first order completed',
      async () => (await api.get(`/v1/orders/${ids.completed}`)).body.status === 'completed',
    );
    await stack.extras.pop()!.close();
    ids.reserved = await placeOrder(ids.owner);
    ids.othersOrder = await placeOrder(ids.other);
    const foreign = new Api(gateway, (await newTenant('another shop')).apiKey);
    ids.foreignAccount = await foreign.account();
    owner = await open(ids.owner);
    other = await open(ids.other);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
  });

  it('opens a session: a 15-minute HS256 JWT bound to tenant, account and session, and an opaque refresh token stored hashed', async () => {
    assert.equal(owner.expiresIn, 900);
    const header = decodeProtectedHeader(owner.accessToken);
    assert.equal(header.alg, 'HS256');
    const claims = decodeJwt(owner.accessToken);
    assert.equal(claims.sub, ids.owner);
    assert.match(String(claims.sid), /^cs_[0-9A-Z]{26}$/);
    assert.match(String(claims.tid), /^ten_/);
    assert.equal(claims.iss, 'tally-gateway');
    assert.equal(claims.aud, 'tally-storefront');
    assert.equal(claims.exp! - claims.iat!, 900);
    const [session] = await db.query(`SELECT tenant_id, account_id FROM customer_sessions WHERE id = $1`, [
      claims.sid,
    ]);
    assert.deepEqual(session, { tenant_id: claims.tid, account_id: ids.owner });
    const hash = createHash('sha256').update(owner.refreshToken).digest();
    const tokens: { token_hash: Buffer }[] = await db.query(
      `SELECT token_hash FROM customer_refresh_tokens WHERE session_id = $1`,
      [claims.sid],
    );
    assert.deepEqual(
      tokens.map((t) => t.token_hash.toString('hex')),
      [hash.toString('hex')],
    );
  });

  it('opening under an Idempotency-Key: a retry answers the same pair, which the database keeps sealed, never in clear', async () => {
    const idempotencyKey = key();
    const first = await api.post(
      '/v1/customer-sessions',
      { accountId: ids.owner },
      { 'idempotency-key': idempotencyKey },
    );
    assert.equal(first.status, 201, first.text);
    const again = await api.post(
      '/v1/customer-sessions',
      { accountId: ids.owner },
      { 'idempotency-key': idempotencyKey },
    );
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, first.body);
    const sid = decodeJwt(first.body.accessToken).sid;
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM customer_sessions WHERE account_id = $1 AND id = $2`,
      [ids.owner, sid],
    );
    assert.equal(n, 1);
    const [stored] = await db.query(
      `SELECT response_body AS body FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`,
      [decodeJwt(first.body.accessToken).tid, idempotencyKey],
    );
    assert.match(stored.body, /^enc:v1:/);
    assert.ok(!stored.body.includes(first.body.refreshToken));
    assert.ok(!stored.body.includes(first.body.accessToken.split('.')[2]));
  });

  it('refuses a session for an account of another tenant, one that does not exist, and to a customer token', async () => {
    for (const accountId of [ids.foreignAccount, 'acc_00000000000000000000000000', 'nope']) {
      const res = await api.post('/v1/customer-sessions', { accountId });
      assert.deepEqual(problem(res), {
        status: 404,
        type: 'application/problem+json',
        code: 'account_not_found',
      });
    }
    const bad = await api.post('/v1/customer-sessions', { accountId: ids.owner, scope: 'all' });
    assert.equal(bad.status, 400, bad.text);
    const res = await as(owner.accessToken).post('/v1/customer-sessions', { accountId: ids.owner });
    assert.deepEqual(problem(res), { status: 403, type: 'application/problem+json', code: 'forbidden' });
  });

  /**
   * What a storefront may do (docs/api.md): each route with the owner's token and another
   * account's token of the same tenant. Every other route refuses customer tokens (403).
   */
  const CUSTOMER_ROUTES: Record<
    string,
    {
      path: () => string;
      body?: () => object;
      owner: number;
      /** The other account's token on the owner's resource: [status, code]. */
      other: [number, string?];
    }
  > = {
    'GET /v1/products': { path: () => '/v1/products', owner: 200, other: [200] },
    'GET /v1/products/:id': { path: () => `/v1/products/${ids.product}`, owner: 200, other: [200] },
    'GET /v1/products/:id/also-bought': {
      path: () => `/v1/products/${ids.product}/also-bought`,
      owner: 200,
      other: [200],
    },
    'GET /v1/accounts/:id': {
      path: () => `/v1/accounts/${ids.owner}`,
      owner: 200,
      other: [404, 'account_not_found'],
    },
    'GET /v1/accounts/:id/recommendations': {
      path: () => `/v1/accounts/${ids.owner}/recommendations`,
      owner: 200,
      other: [404, 'account_not_found'],
    },
    'POST /v1/orders': {
      path: () => '/v1/orders',
      body: () => ({ accountId: ids.owner, items: [{ productId: ids.product, quantity: 1 }] }),
      owner: 201,
      other: [404, 'account_not_found'],
    },
    'GET /v1/orders': {
      path: () => `/v1/orders?accountId=${ids.owner}`,
      owner: 200,
      other: [404, 'account_not_found'],
    },
    'GET /v1/orders/:id': {
      path: () => `/v1/orders/${ids.completed}`,
      owner: 200,
      other: [404, 'order_not_found'],
    },
    'POST /v1/orders/:id/cancel': {
      path: () => `/v1/orders/${ids.reserved}/cancel`,
      owner: 200,
      other: [404, 'order_not_found'],
    },
    'POST /v1/products/:id/ratings': {
      path: () => `/v1/products/${ids.product}/ratings`,
      body: () => ({ accountId: ids.owner, rating: 4 }),
      owner: 201,
      other: [404, 'account_not_found'],
    },
  };
  /** Routes no credential is needed for: the refresh token is the credential. */
  const NO_CREDENTIALS = ['POST /v1/customer-sessions/refresh'];
  /** Routes only a payment provider's signature opens: no API key or token does (401 without it). */
  const PROVIDER_SIGNED = ['POST /v1/provider-events'];
  /** Routes only an API key may call (docs/api.md lists nothing else for storefronts). */
  const API_KEY_ONLY = [
    'DELETE /v1/event-types/:type',
    'DELETE /v1/webhook-endpoints/:id',
    'GET /v1/accounts',
    'GET /v1/accounts/:id/entries',
    'GET /v1/event-types',
    'GET /v1/event-types/:type',
    'GET /v1/events',
    'GET /v1/events/:id',
    'GET /v1/events/stats',
    'GET /v1/holds/:id',
    'GET /v1/meters',
    'GET /v1/orders/:id/receipt',
    'GET /v1/transactions',
    'GET /v1/transactions/:id',
    'GET /v1/usage',
    'GET /v1/webhook-endpoints',
    'GET /v1/webhook-endpoints/:id',
    'GET /v1/webhook-endpoints/:id/deliveries',
    'PATCH /v1/products/:id',
    'PATCH /v1/webhook-endpoints/:id',
    'POST /v1/accounts',
    'POST /v1/customer-sessions',
    'POST /v1/event-types',
    'POST /v1/events',
    'POST /v1/holds',
    'POST /v1/holds/:id/capture',
    'POST /v1/holds/:id/void',
    'POST /v1/meters',
    'POST /v1/products',
    'POST /v1/products/:id/stock',
    'POST /v1/transactions',
    'POST /v1/webhook-endpoints',
    'POST /v1/webhook-endpoints/:id/deliveries/:deliveryId/retry',
    'POST /v1/webhook-endpoints/:id/recover',
    'POST /v1/webhook-endpoints/:id/rotate-secret',
    'PUT /v1/event-types/:type',
  ];

  it('every gateway route has a decision for customer tokens', async () => {
    const routes = (await routesOf('gateway')).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(
      routes.sort(),
      [...Object.keys(CUSTOMER_ROUTES), ...NO_CREDENTIALS, ...PROVIDER_SIGNED, ...API_KEY_ONLY].sort(),
      'a route was added or removed: decide what a customer token may do with it (docs/api.md)',
    );
  });

  it('every route × {API key, owner, other account, expired, tampered, alg none, wrong audience, wrong issuer} answers as contracted', async () => {
    const claims = decodeJwt(owner.accessToken);
    const now = Math.floor(Date.now() / 1000);
    const [h, p, signature] = owner.accessToken.split('.');
    const forged: Record<string, string> = {
      expired: await signed({ ...claims, iat: now - 1000, exp: now - 100 }),
      // The other account's id in the owner's signed token: the signature no longer matches.
      tampered: `${h}.${b64({ ...claims, sub: ids.other })}.${signature}`,
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
      'wrong audience': await signed({ ...claims, aud: 'tally-admin' }),
      'wrong issuer': await signed({ ...claims, iss: 'someone-else' }),
      // Rightly signed with the gateway's key, but not with the one algorithm it accepts.
      'another algorithm': await signed({ ...claims }, { alg: 'HS512' }),
    };
    const routes = await routesOf('gateway');
    const fakeIds: Record<string, string> = {
      accounts: 'acc_00000000000000000000000000',
      orders: 'ord_00000000000000000000000000',
      products: 'prod_00000000000000000000000000',
      holds: 'hold_00000000000000000000000000',
      transactions: 'txn_00000000000000000000000000',
      events: 'evt-none',
      'event-types': 'none.such',
      'webhook-endpoints': 'whe_00000000000000000000000000',
    };
    const fake = (route: Route) =>
      route.path.replace(/:(\w+)/g, (_, param: string) =>
        param === 'deliveryId' ? 'dlv_00000000000000000000000000' : fakeIds[route.path.split('/')[2]],
      );
    let customerCalls = 0;
    for (const route of routes) {
      const name = `${route.method} ${route.path}`;
      const allowed = CUSTOMER_ROUTES[name];
      const path = allowed ? allowed.path() : fake(route);
      const body =
        route.method === 'GET' || route.method === 'DELETE' ? undefined : (allowed?.body?.() ?? {});
      const call = (token: string) =>
        as(token).request(route.method, path, { body, headers: { 'idempotency-key': key() } });

      if (PROVIDER_SIGNED.includes(name)) {
        // Neither the API key nor any token stands for the provider's signature.
        for (const token of [...Object.values(forged), owner.accessToken, api.apiKey]) {
          assert.deepEqual(
            problem(await call(token)),
            { status: 401, type: 'application/problem+json', code: 'unauthorized' },
            name,
          );
        }
        continue;
      }
      // Any bad token: 401 problem+json, before anything else is looked at.
      for (const [kind, token] of Object.entries(forged)) {
        const res = await call(token);
        if (NO_CREDENTIALS.includes(name)) {
          assert.notEqual(res.status, 401, `${name} needs no credential (${kind})`);
          continue;
        }
        assert.deepEqual(
          problem(res),
          { status: 401, type: 'application/problem+json', code: 'unauthorized' },
          `${name} with a token ${kind}: ${res.text}`,
        );
      }
      // The API key: as before customer sessions (the fake ids and empty bodies change nothing).
      const byKey = await api.request(route.method, fake(route), {
        body: route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
        headers: { 'idempotency-key': key() },
      });
      assert.ok(
        ![401, 403].includes(byKey.status),
        `${name} with the API key: ${byKey.status} ${byKey.text}`,
      );

      if (NO_CREDENTIALS.includes(name)) continue;
      if (!allowed) {
        for (const token of [owner.accessToken, other.accessToken]) {
          const res = await call(token);
          assert.deepEqual(
            problem(res),
            { status: 403, type: 'application/problem+json', code: 'forbidden' },
            `${name} with a customer token: ${res.text}`,
          );
        }
        continue;
      }
      customerCalls++;
      const byOther = await call(other.accessToken);
      assert.equal(byOther.status, allowed.other[0], `${name} by another account: ${byOther.text}`);
      if (allowed.other[1]) assert.equal(byOther.body.code, allowed.other[1], name);
      const byOwner = await call(owner.accessToken);
      assert.equal(byOwner.status, allowed.owner, `${name} by the owner: ${byOwner.text}`);
    }
    assert.equal(customerCalls, Object.keys(CUSTOMER_ROUTES).length);
  });

  it("a customer's lists and bodies only ever reach its own account", async () => {
    const mine = await as(owner.accessToken).get('/v1/orders');
    assert.equal(mine.status, 200, mine.text);
    const accounts = new Set(mine.body.data.map((o: { accountId: string }) => o.accountId));
    assert.deepEqual([...accounts], [ids.owner]);
    assert.ok(mine.body.data.some((o: { id: string }) => o.id === ids.completed));
    const theirs = await as(other.accessToken).get('/v1/orders');
    assert.deepEqual(
      theirs.body.data.map((o: { id: string }) => o.id),
      [ids.othersOrder],
    );
    // Rating with its own account: it bought nothing, so the business rule answers, not the guard.
    const rating = await as(other.accessToken).post(`/v1/products/${ids.product}/ratings`, {
      accountId: ids.other,
      rating: 5,
    });
    assert.equal(rating.body.code, 'not_purchased', rating.text);
    // An account id that is not text is refused as bad input, and places nothing.
    const before = (await api.get(`/v1/orders?accountId=${ids.owner}`)).body.data.length;
    const odd = await as(owner.accessToken).post(
      '/v1/orders',
      { accountId: [ids.owner], items: [{ productId: ids.product, quantity: 1 }] },
      { 'idempotency-key': key() },
    );
    assert.equal(odd.status, 400, odd.text);
    assert.equal((await api.get(`/v1/orders?accountId=${ids.owner}`)).body.data.length, before);
    // Nor can a filter name its own account and another's at once.
    const both = await as(owner.accessToken).get(`/v1/orders?accountId=${ids.owner}&accountId=${ids.other}`);
    assert.equal(both.status, 400, both.text);
    // Archived products are the tenant's: a storefront lists what is for sale, the API key sees both.
    const archivedProduct = await api.post('/v1/products', {
      sku: `CS-OLD-${randomBytes(4).toString('hex')}`,
      name: 'Old lamp',
      price: 90,
      currency: 'USD',
      stock: 1,
    });
    assert.equal(archivedProduct.status, 201, archivedProduct.text);
    const archive = await api.request('PATCH', `/v1/products/${archivedProduct.body.id}`, {
      body: { status: 'archived' },
    });
    assert.equal(archive.status, 200, archive.text);
    const archivedByKey = await api.get('/v1/products?status=archived');
    assert.ok(archivedByKey.body.data.some((p: { id: string }) => p.id === archivedProduct.body.id));
    const archivedByCustomer = await as(owner.accessToken).get('/v1/products?status=archived');
    assert.equal(archivedByCustomer.status, 403, archivedByCustomer.text);
    assert.equal(archivedByCustomer.body.code, 'forbidden');
    const oneArchived = await as(owner.accessToken).get(`/v1/products/${archivedProduct.body.id}`);
    assert.equal(oneArchived.status, 404, oneArchived.text);
    assert.equal((await api.get(`/v1/products/${archivedProduct.body.id}`)).status, 200);
    const forSale = await as(owner.accessToken).get('/v1/products?limit=100');
    assert.equal(forSale.status, 200, forSale.text);
    assert.ok(!forSale.body.data.some((p: { id: string }) => p.id === archivedProduct.body.id));
  });

  it('refresh rotates: the old refresh token stops working, and using it again revokes the session and its newest tokens', async () => {
    const first = await open(ids.owner);
    const second = await refresh(first.refreshToken);
    assert.equal(second.status, 200, second.text);
    assert.notEqual(second.body.refreshToken, first.refreshToken);
    assert.equal(decodeJwt(second.body.accessToken).sid, decodeJwt(first.accessToken).sid);
    assert.equal((await as(second.body.accessToken).get(`/v1/accounts/${ids.owner}`)).status, 200);

    const reused = await refresh(first.refreshToken);
    assert.deepEqual(problem(reused), {
      status: 401,
      type: 'application/problem+json',
      code: 'refresh_token_reused',
    });
    for (const token of [first.accessToken, second.body.accessToken]) {
      const res = await as(token).get(`/v1/accounts/${ids.owner}`);
      assert.deepEqual(problem(res), { status: 401, type: 'application/problem+json', code: 'unauthorized' });
    }
    const [session] = await db.query(`SELECT revoked_reason FROM customer_sessions WHERE id = $1`, [
      decodeJwt(first.accessToken).sid,
    ]);
    assert.equal(session.revoked_reason, 'refresh_token_reused');
    const newest = await refresh(second.body.refreshToken);
    assert.deepEqual(problem(newest), {
      status: 401,
      type: 'application/problem+json',
      code: 'unauthorized',
    });
    // Other sessions of the same account are not touched.
    assert.equal((await as(owner.accessToken).get(`/v1/accounts/${ids.owner}`)).status, 200);
  });

  it('two refreshes with one token at once: exactly one wins, the other is a reuse', async () => {
    for (let round = 0; round < 3; round++) {
      const pair = await open(ids.owner);
      const answers = await Promise.all([refresh(pair.refreshToken), refresh(pair.refreshToken)]);
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [200, 401], answers.map((a) => a.text).join('\n'));
      const winner = answers.find((a) => a.status === 200)!;
      const loser = answers.find((a) => a.status === 401)!;
      assert.equal(loser.body.code, 'refresh_token_reused');
      // The reuse revoked the session: the winner's new pair is dead too.
      assert.equal((await as(winner.body.accessToken).get('/v1/products')).status, 401);
      assert.equal((await refresh(winner.body.refreshToken)).status, 401);
    }
  });

  it('an unknown, malformed or expired refresh token is 401 problem+json; a session ends at its lifetime', async () => {
    for (const token of [`csr_${randomBytes(32).toString('base64url')}`, 'x']) {
      assert.deepEqual(problem(await refresh(token)), {
        status: 401,
        type: 'application/problem+json',
        code: 'unauthorized',
      });
    }
    const empty = await refresh('');
    assert.equal(empty.status, 400, empty.text);

    const pair = await open(ids.owner);
    const sid = decodeJwt(pair.accessToken).sid;
    assert.equal((await as(pair.accessToken).get('/v1/products')).status, 200);
    await db.query(`UPDATE customer_sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      sid,
    ]);
    assert.deepEqual(problem(await refresh(pair.refreshToken)), {
      status: 401,
      type: 'application/problem+json',
      code: 'unauthorized',
    });
    // The access token's own expiry has not come, but its session has ended.
    assert.equal((await as(pair.accessToken).get('/v1/products')).status, 401);
  });

  it('a token of a disabled tenant stops working', async () => {
    const shop = await newTenant('disabled shop');
    const client = new Api(gateway, shop.apiKey);
    const account = await client.account();
    const pair = await open(account, client);
    assert.equal((await as(pair.accessToken).get(`/v1/accounts/${account}`)).status, 200);
    await db.query(`UPDATE tenants SET status = 'disabled' WHERE id = $1`, [shop.tenantId]);
    assert.equal((await as(pair.accessToken).get(`/v1/accounts/${account}`)).status, 401);
    assert.equal((await refresh(pair.refreshToken)).status, 401);
  });
});

describe('customer rate limits', () => {
  let stack: InProcessStack;
  let api: Api;

  beforeAll(async () => {
    stack = await InProcessStack.start('custrl', ['gateway'], {
      RATE_LIMIT_CUSTOMER_BURST: '3',
      RATE_LIMIT_CUSTOMER_PER_SECOND: '0.01',
      RATE_LIMIT_REFRESH_PER_MINUTE: '2',
    });
    api = new Api(stack.url('gateway'), (await newTenant('limited shop')).apiKey);
  });
  afterAll(() => stack?.stop());

  it("customer tokens have their own bucket per account, apart from the API key's and other accounts'", async () => {
    const open = async (accountId: string) =>
      (await api.post('/v1/customer-sessions', { accountId })).body.accessToken as string;
    const account = await api.account();
    const first = new Api(stack.url('gateway'), await open(account));
    const second = new Api(stack.url('gateway'), await open(account));
    for (let i = 0; i < 3; i++) {
      const ok = await (i % 2 ? second : first).get(`/v1/accounts/${account}`);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.headers.get('ratelimit-policy'), '"customer";q=3;w=300');
    }
    // Both sessions of the account share its bucket.
    const refused = await second.get('/v1/products');
    assert.deepEqual(problem(refused), {
      status: 429,
      type: 'application/problem+json',
      code: 'rate_limited',
    });
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    // Another account, and the API key, are not held back.
    const neighbour = await api.account();
    assert.equal(
      (await new Api(stack.url('gateway'), await open(neighbour)).get('/v1/products')).status,
      200,
    );
    assert.equal((await api.get(`/v1/accounts/${account}`)).status, 200);
  });

  it('refreshes are limited per client address, whatever the token', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await send(
        stack.url('gateway'),
        'POST',
        '/v1/customer-sessions/refresh',
        { 'content-type': 'application/json' },
        JSON.stringify({ refreshToken: `csr_${randomBytes(8).toString('hex')}` }),
      );
      statuses.push(res.status);
      if (res.status === 429) {
        assert.equal(res.body.code, 'rate_limited');
        assert.match(res.headers.get('ratelimit-policy') ?? '', /^"customer-refresh";q=2;w=60$/);
      }
    }
    assert.deepEqual(statuses, [401, 401, 429]);
  });

  it("a payment provider's events spend a bucket of their own, not the refreshes'", async () => {
    // The refresh bucket of this address is empty (the test above); provider events still pass
    // the limiter and reach the signature check (401), in the provider-events bucket.
    for (let i = 0; i < 3; i++) {
      const res = await send(
        stack.url('gateway'),
        'POST',
        '/v1/provider-events',
        { 'content-type': 'application/json', 'provider-signature': 't=1,v1=00' },
        JSON.stringify({ id: `pev_${i}`, type: 'payout.paid', data: {} }),
      );
      assert.equal(res.status, 401, res.text);
      assert.match(res.headers.get('ratelimit-policy') ?? '', /^"provider-events";/);
    }
  });
});
