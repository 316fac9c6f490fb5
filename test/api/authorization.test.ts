import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Api, routesOf, send, signedInOperator, waitFor, type Route } from '#test-support';
import { CUSTOMER_ACCESS } from '../../apps/gateway/src/auth/access.js';
import { InProcessStack, newTenant } from '../support/in-process.js';

/** OWASP API1 (object level), API3 (property level) and API5 (function level), route by route. */
describe('authorization on every route', () => {
  let stack: InProcessStack;
  let owner: Api;
  let intruder: Api;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    stack = await InProcessStack.start('authz', ['gateway', 'transaction-worker', 'notification', 'admin'], {
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_RETRY_SCHEDULE_MS: '3600000',
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
    });
    owner = new Api(stack.url('gateway'), (await newTenant('owner')).apiKey);
    intruder = new Api(stack.url('gateway'), (await newTenant('intruder')).apiKey);

    ids.account = await owner.account();
    ids.transaction = (await owner.deposit(ids.account, 1_000)).id;
    const hold = await owner.post(
      '/v1/holds',
      { accountId: ids.account, amount: 100, currency: 'USD' },
      { 'idempotency-key': `h-${randomBytes(4).toString('hex')}` },
    );
    assert.equal(hold.status, 201, hold.text);
    ids.hold = hold.body.id;
    const product = await owner.post('/v1/products', {
      sku: `SKU-${randomBytes(4).toString('hex')}`,
      name: 'Lamp',
      price: 25,
      currency: 'USD',
      stock: 5,
    });
    assert.equal(product.status, 201, product.text);
    ids.product = product.body.id;
    const order = await owner.post(
      '/v1/orders',
      { accountId: ids.account, items: [{ productId: ids.product, quantity: 1 }] },
      { 'idempotency-key': `o-${randomBytes(4).toString('hex')}` },
    );
    assert.equal(order.status, 201, order.text);
    ids.order = order.body.id;
    ids.event = `evt-${randomBytes(4).toString('hex')}`;
    assert.equal((await owner.post('/v1/events', { id: ids.event, type: 'api_call' })).status, 202);
    ids.eventType = `authz.${randomBytes(4).toString('hex')}`;
    assert.equal((await owner.post('/v1/event-types', { type: ids.eventType, schema: {} })).status, 201);
    // Nothing listens on port 9: the delivery exists and fails, which is all this needs.
    const endpoint = await owner.post('/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/hook' });
    assert.equal(endpoint.status, 201, endpoint.text);
    ids.endpoint = endpoint.body.id;
    await owner.deposit(ids.account, 1);
    ids.delivery = await waitFor(
      'a delivery',
      async () => (await owner.get(`/v1/webhook-endpoints/${ids.endpoint}/deliveries`)).body.data[0]?.id,
      15_000,
    );
  });
  afterAll(() => stack?.stop());

  const RESOURCE_OF_SEGMENT: Record<string, string> = {
    accounts: 'account',
    transactions: 'transaction',
    holds: 'hold',
    events: 'event',
    'event-types': 'eventType',
    'webhook-endpoints': 'endpoint',
    products: 'product',
    orders: 'order',
  };
  /** The owner's id for each `:param` of a route template. */
  const fill = (route: Route) =>
    route.path.replace(/:(\w+)/g, (_, param: string) => {
      const resource = param === 'deliveryId' ? 'delivery' : RESOURCE_OF_SEGMENT[route.path.split('/')[2]];
      assert.ok(resource && ids[resource], `no test resource for ${param} in ${route.method} ${route.path}`);
      return encodeURIComponent(ids[resource]);
    });
  const plausibleBody: Record<string, unknown> = {
    'POST /v1/holds/:id/capture': { amount: 50 },
    'PATCH /v1/webhook-endpoints/:id': { description: 'taken over' },
    'POST /v1/webhook-endpoints/:id/recover': { since: new Date(Date.now() - 3600_000).toISOString() },
    'PATCH /v1/products/:id': { price: 1 },
    'POST /v1/products/:id/stock': { delta: -5 },
    'POST /v1/products/:id/ratings': { accountId: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C', rating: 1 },
    'PUT /v1/event-types/:type': { schema: { type: 'object', required: ['taken'] } },
  };

  it('another tenant gets 404 on every route that takes an id, and changes nothing', async () => {
    const idRoutes = (await routesOf('gateway')).filter((r) => r.path.includes(':'));
    assert.ok(idRoutes.length >= 12, `found only ${idRoutes.length} id-taking routes`);
    const before = {
      account: (await owner.get(`/v1/accounts/${ids.account}`)).body,
      hold: (await owner.get(`/v1/holds/${ids.hold}`)).body,
      endpoint: (await owner.get(`/v1/webhook-endpoints/${ids.endpoint}`)).body,
      product: (await owner.get(`/v1/products/${ids.product}`)).body,
      eventType: (await owner.get(`/v1/event-types/${ids.eventType}`)).body,
    };
    for (const route of idRoutes) {
      const key = `${route.method} ${route.path}`;
      const res = await intruder.request(route.method, fill(route), {
        body: route.method === 'GET' || route.method === 'DELETE' ? undefined : (plausibleBody[key] ?? {}),
        headers: { 'idempotency-key': `x-${randomBytes(6).toString('hex')}` },
      });
      assert.equal(res.status, 404, `${key}: ${res.status} ${res.text}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, key);
      assert.match(res.body.code, /_not_found$/, key);
      const path = fill(route);
      for (const id of Object.values(ids)) {
        if (!path.includes(encodeURIComponent(id))) assert.ok(!res.text.includes(id), `${key} reveals ${id}`);
      }
    }
    assert.deepEqual((await owner.get(`/v1/accounts/${ids.account}`)).body, before.account);
    assert.deepEqual((await owner.get(`/v1/holds/${ids.hold}`)).body, before.hold);
    assert.deepEqual((await owner.get(`/v1/webhook-endpoints/${ids.endpoint}`)).body, before.endpoint);
    assert.deepEqual((await owner.get(`/v1/event-types/${ids.eventType}`)).body, before.eventType);
    const product = (await owner.get(`/v1/products/${ids.product}`)).body;
    assert.deepEqual({ ...product, score: 0 }, { ...before.product, score: 0 });
  });

  it("another tenant's customer token: 404 where a storefront may go, 403 elsewhere, and changes nothing", async () => {
    const session = await intruder.post('/v1/customer-sessions', { accountId: await intruder.account() });
    assert.equal(session.status, 201, session.text);
    const storefront = new Api(stack.url('gateway'), session.body.accessToken);
    const idRoutes = (await routesOf('gateway')).filter((r) => r.path.includes(':'));
    const product = (await owner.get(`/v1/products/${ids.product}`)).body;
    let reachable = 0;
    for (const route of idRoutes) {
      const key = `${route.method} ${route.path}`;
      const res = await storefront.request(route.method, fill(route), {
        body: route.method === 'GET' || route.method === 'DELETE' ? undefined : (plausibleBody[key] ?? {}),
        headers: { 'idempotency-key': `x-${randomBytes(6).toString('hex')}` },
      });
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, key);
      if (Reflect.getMetadata(CUSTOMER_ACCESS, route.target)) {
        reachable++;
        assert.equal(res.status, 404, `${key}: ${res.status} ${res.text}`);
        assert.match(res.body.code, /_not_found$/, key);
      } else {
        assert.equal(res.status, 403, `${key}: ${res.status} ${res.text}`);
        assert.equal(res.body.code, 'forbidden', key);
      }
    }
    assert.ok(reachable >= 6, `only ${reachable} id-taking routes take customer tokens`);
    for (const path of ['/v1/products', '/v1/orders']) {
      const res = await storefront.get(path);
      assert.equal(res.status, 200, path);
      for (const id of Object.values(ids)) assert.ok(!res.text.includes(id), `${path} shows ${id}`);
    }
    const placed = await storefront.post(
      '/v1/orders',
      { accountId: ids.account, items: [{ productId: ids.product, quantity: 1 }] },
      { 'idempotency-key': `x-${randomBytes(6).toString('hex')}` },
    );
    assert.equal(placed.status, 404, placed.text);
    assert.deepEqual(
      { ...(await owner.get(`/v1/products/${ids.product}`)).body, score: 0 },
      { ...product, score: 0 },
    );
    // (The worker may complete it meanwhile; nobody else may cancel it.)
    assert.notEqual((await owner.get(`/v1/orders/${ids.order}`)).body.status, 'cancelled');
  });

  it("another tenant's lists and filters never show the owner's resources", async () => {
    for (const path of [
      '/v1/accounts',
      `/v1/transactions?accountId=${ids.account}`,
      '/v1/webhook-endpoints',
      `/v1/usage?accountId=${ids.account}`,
      '/v1/meters',
      '/v1/products',
      '/v1/products?q=lamp&sort=newest',
      '/v1/orders',
      `/v1/orders?accountId=${ids.account}`,
      '/v1/events',
      `/v1/events?accountId=${ids.account}`,
      '/v1/events/stats',
      '/v1/event-types',
    ]) {
      const res = await intruder.get(path);
      if (res.status === 404) {
        assert.equal(res.body.code, 'account_not_found', path);
        continue;
      }
      assert.equal(res.status, 200, path);
      const shown = JSON.stringify(res.body.data ?? res.body);
      for (const id of Object.values(ids)) assert.ok(!shown.includes(id), `${path} shows ${id}: ${shown}`);
    }
    // And a body naming the owner's account is refused as if it did not exist.
    const res = await intruder.transact({
      type: 'withdrawal',
      sourceAccountId: ids.account,
      amount: 1,
      currency: 'USD',
    });
    assert.equal(res.status, 404, res.text);
  });

  it('no body can set balances, statuses, ids or the tenant (unknown properties are refused)', async () => {
    const forbidden = {
      tenantId: 'ten_other',
      id: 'acc_chosen',
      balance: 1_000_000,
      postedBalance: 1_000_000,
      heldBalance: 0,
      availableBalance: 1_000_000,
      status: 'succeeded',
      createdAt: '2020-01-01T00:00:00Z',
    };
    const creates: [string, Record<string, unknown>, Record<string, string>?][] = [
      ['/v1/accounts', { currency: 'USD' }],
      [
        '/v1/transactions',
        { type: 'deposit', destinationAccountId: ids.account, amount: 5, currency: 'USD' },
        { 'idempotency-key': 'k' },
      ],
      ['/v1/holds', { accountId: ids.account, amount: 5, currency: 'USD' }, { 'idempotency-key': 'k' }],
      ['/v1/meters', { eventType: 'x', aggregation: 'count', unitPrice: 1, currency: 'USD' }],
      ['/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/x' }],
      ['/v1/products', { sku: 'FORBIDDEN', name: 'Lamp', price: 1, currency: 'USD' }],
      [
        '/v1/orders',
        { accountId: ids.account, items: [{ productId: ids.product, quantity: 1 }] },
        { 'idempotency-key': 'k' },
      ],
      ['/v1/events', { id: 'e-forbidden', type: 'api_call' }],
      ['/v1/customer-sessions', { accountId: ids.account }],
    ];
    const balance = (await owner.get(`/v1/accounts/${ids.account}`)).body;
    for (const [path, valid, headers] of creates) {
      for (const [field, value] of Object.entries(forbidden)) {
        if (path === '/v1/events' && field === 'id') continue; // the client's own event id
        const res = await owner.post(
          path,
          { ...valid, [field]: value },
          {
            ...headers,
            ...(headers ? { 'idempotency-key': `p-${randomBytes(6).toString('hex')}` } : {}),
          },
        );
        if (path === '/v1/events') {
          // Events are accepted per item: the item is rejected by index, nothing recorded.
          assert.ok(
            res.status === 400 || (res.status === 202 && res.body.accepted === 0),
            `${path} ${field}: ${res.text}`,
          );
        } else {
          assert.equal(res.status, 400, `${path} with ${field}: ${res.status} ${res.text}`);
          assert.equal(res.body.code, 'validation_error');
        }
      }
    }
    assert.deepEqual((await owner.get(`/v1/accounts/${ids.account}`)).body, balance);
  });

  it("provider events take a provider's signature, not an API key: a tenant's key gets 401, nothing recorded", async () => {
    const body = {
      id: `pevt_${randomBytes(4).toString('hex')}`,
      type: 'payout.paid',
      data: { id: 'po_1', reference: ids.transaction, status: 'paid' },
    };
    for (const api of [owner, intruder]) {
      const res = await api.post('/v1/provider-events', body);
      assert.equal(res.status, 401, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.body.code, 'unauthorized');
    }
    assert.equal((await owner.get(`/v1/transactions/${ids.transaction}`)).body.status, 'succeeded');
  });

  it('admin API: every route but sign-in needs a token, and a viewer can change nothing', async () => {
    const routes = await routesOf('admin');
    const isPublic = (r: Route) => /^\/admin\/api\/auth\/(login|refresh|logout)$/.test(r.path);
    const concrete = (r: Route) =>
      r.path.replace(/:(\w+)/g, (_, p: string) => `${p}_${randomBytes(3).toString('hex')}`);
    const admin = stack.url('admin');
    const viewer = await signedInOperator(admin, 'viewer');
    const call = (r: Route, token?: string) =>
      send(
        admin,
        r.method,
        concrete(r),
        { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        r.method === 'GET' ? undefined : '{}',
      );
    let changes = 0;
    for (const route of routes.filter((r) => !isPublic(r))) {
      const key = `${route.method} ${route.path}`;
      const anonymous = await call(route);
      assert.equal(anonymous.status, 401, key);
      assert.match(anonymous.headers.get('content-type') ?? '', /^application\/problem\+json/, key);
      const forged = await call(route, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJvcF94Iiwicm9sZSI6ImFkbWluIn0.');
      assert.equal(forged.status, 401, `${key} with an unsigned token`);
      const asViewer = await call(route, viewer);
      if (route.method === 'GET') {
        assert.notEqual(asViewer.status, 401, key);
        assert.ok(route.path.includes('operators') ? asViewer.status === 403 : asViewer.status !== 403, key);
      } else {
        changes++;
        assert.equal(asViewer.status, 403, `${key}: a viewer got ${asViewer.status}`);
      }
    }
    assert.ok(changes >= 18, `only ${changes} change routes found`);
  });
});
