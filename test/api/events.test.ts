import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, metricSum, openDataSource, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

type EventBody = Record<string, unknown> & { id: string; type: string; status: string };

/**
 * Events you can query (GET /v1/events, /v1/events/stats), events without ids, event type schemas
 * (/v1/event-types) and what the worker makes of an event that breaks one — each test on a tenant
 * of its own, the gateway and the worker in-process on the run's database and broker.
 */
describe('events: list, stats, event types (docs/api.md, Usage events)', () => {
  let stack: InProcessStack;
  let db: DataSource;

  const tenantApi = async (name: string) => new Api(stack.url('gateway'), (await newTenant(name)).apiKey);
  const put = (api: Api, path: string, body: unknown) => api.request('PUT', path, { body });
  const del = (api: Api, path: string) => api.request('DELETE', path);
  /** Waits until every event has left `received`, and answers them by id. */
  const settled = async (api: Api, ids: string[]) => {
    const found = new Map<string, EventBody>();
    await waitFor(
      `${ids.length} events to be processed`,
      async () => {
        for (const id of ids) {
          if (found.has(id)) continue;
          const res = await api.get(`/v1/events/${encodeURIComponent(id)}`);
          if (res.status === 200 && res.body.status !== 'received') found.set(id, res.body);
        }
        return found.size === ids.length;
      },
      30_000,
    );
    return found;
  };
  /** Every page of a list, following nextCursor. */
  const allPages = async (api: Api, query: string, from: string | null = null) => {
    const pages: EventBody[][] = [];
    let cursor: string | null = from;
    do {
      const res = await api.get(`/v1/events?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      pages.push(res.body.data);
      cursor = res.body.nextCursor;
    } while (cursor && pages.length < 50);
    return pages;
  };

  beforeAll(async () => {
    stack = await InProcessStack.start('events', ['gateway', 'transaction-worker']);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack.stop();
  });

  it('events without an id get evt_ ids, index by index, and are never duplicates', async () => {
    const api = await tenantApi('No ids');
    const single = await api.post('/v1/events', { type: 'page.view', properties: { path: '/' } });
    assert.equal(single.status, 202, single.text);
    assert.equal(single.body.accepted, 1);
    assert.match(single.body.ids[0], /^evt_[0-9A-Z]{26}$/);
    const again = await api.post('/v1/events', { type: 'page.view', properties: { path: '/' } });
    assert.deepEqual([again.body.accepted, again.body.duplicates], [1, 0]);
    assert.notEqual(again.body.ids[0], single.body.ids[0]);

    const batch = await api.post('/v1/events', {
      events: [
        { type: 'a' },
        { id: 'mine-1', type: 'a' },
        { type: 'bad type!' },
        { id: 'mine-1', type: 'a' },
        {},
      ],
    });
    assert.equal(batch.status, 202, batch.text);
    assert.equal(batch.body.ids.length, 5);
    assert.match(batch.body.ids[0], /^evt_/);
    assert.deepEqual(batch.body.ids.slice(1), ['mine-1', null, 'mine-1', null]);
    assert.deepEqual([batch.body.accepted, batch.body.duplicates], [2, 1]);
    assert.deepEqual(
      batch.body.rejected.map((r: { index: number }) => r.index),
      [2, 4],
    );
    const done = await settled(api, [single.body.ids[0], again.body.ids[0], batch.body.ids[0], 'mine-1']);
    assert.ok([...done.values()].every((e) => e.status === 'processed'));
  });

  it('GET /v1/events pages newest first, stably, and filters by type, account, status and range', async () => {
    const api = await tenantApi('Lists');
    const account = await api.account({ currency: 'USD' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api.post('/v1/events', {
        events: Array.from({ length: 5 }, (_, j) => ({
          id: `e-${i}-${j}`,
          type: j % 2 === 0 ? 'even' : 'odd',
          accountId: j === 0 ? account : null,
        })),
      });
      assert.equal(res.body.accepted, 5, res.text);
      ids.push(...res.body.ids);
    }
    await settled(api, ids);

    const pages = await allPages(api, 'limit=7');
    assert.deepEqual(
      pages.map((p) => p.length),
      [7, 7, 7, 4],
    );
    const listed = pages.flat();
    assert.deepEqual(new Set(listed.map((e) => e.id)), new Set(ids));
    assert.equal(new Set(listed.map((e) => e.id)).size, 25);
    const order = listed.map((e) => [e.receivedAt as string, e.id]);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? 1 : -1) : a[0] < b[0] ? 1 : -1)),
    );
    assert.equal(listed[0].status, 'processed');
    assert.ok('billing' in listed[0] && 'failure' in listed[0]);

    // A page read, then new events, then the next page: nothing repeated, nothing skipped.
    const first = await api.get('/v1/events?limit=10');
    await api.post('/v1/events', {
      events: [
        { id: 'late-1', type: 'even' },
        { id: 'late-2', type: 'odd' },
      ],
    });
    const rest = await allPages(api, 'limit=10', first.body.nextCursor);
    const seen = [...first.body.data, ...rest.flat()].map((e: EventBody) => e.id);
    assert.equal(seen.length, 25);
    assert.deepEqual(new Set(seen), new Set(ids));

    const evens = (await allPages(api, 'type=even&limit=100')).flat();
    assert.equal(evens.length, 16);
    assert.ok(evens.every((e) => e.type === 'even'));
    const ofAccount = (await allPages(api, `accountId=${account}`)).flat();
    assert.deepEqual(ofAccount.map((e) => e.id).sort(), ['e-0-0', 'e-1-0', 'e-2-0', 'e-3-0', 'e-4-0']);
    await settled(api, ['late-1', 'late-2']);
    assert.equal((await allPages(api, 'status=processed&limit=100')).flat().length, 27);
    assert.equal((await allPages(api, 'status=failed')).flat().length, 0);
    assert.equal((await allPages(api, 'status=pending')).flat().length, 0);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await allPages(api, `from=${encodeURIComponent(future)}`)).flat().length, 0);
    assert.equal((await allPages(api, `to=${encodeURIComponent(future)}&limit=100`)).flat().length, 27);
  });

  it('GET /v1/events: pending and failed events are listed by status', async () => {
    const api = await tenantApi('Statuses');
    await api.post('/v1/meters', {
      eventType: 'metered',
      aggregation: 'count',
      unitPrice: 1,
      currency: 'USD',
    });
    // A metered event without an account fails account_required.
    const res = await api.post('/v1/events', {
      events: [
        { id: 'f-1', type: 'metered' },
        { id: 'ok-1', type: 'free' },
      ],
    });
    assert.equal(res.body.accepted, 2, res.text);
    await settled(api, ['f-1', 'ok-1']);
    const failed = (await allPages(api, 'status=failed')).flat();
    assert.deepEqual(
      failed.map((e) => [e.id, (e.failure as { code: string }).code]),
      [['f-1', 'account_required']],
    );
    // A pending event: stored, its command not yet handled (inserted as the gateway would, without one).
    const [{ tenant_id: tenantId }] = await db.query(`SELECT tenant_id FROM usage_events WHERE id = 'ok-1'`);
    await db.query(
      `INSERT INTO usage_events (tenant_id, id, type, occurred_at) VALUES ($1, 'p-1', 'free', now())`,
      [tenantId],
    );
    const pending = (await allPages(api, 'status=pending')).flat();
    assert.deepEqual(
      pending.map((e) => [e.id, e.status]),
      [['p-1', 'received']],
    );
  });

  it('GET /v1/events refuses a bad query with 400 validation_error', async () => {
    const api = await tenantApi('Bad list queries');
    for (const query of [
      'status=received',
      'status=done',
      'limit=0',
      'limit=101',
      'type=bad%20type',
      'from=yesterday',
      `from=${encodeURIComponent('2026-11-02T00:00:00Z')}&to=${encodeURIComponent('2026-11-01T00:00:00Z')}`,
      'cursor=bm90LWEtY3Vyc29y',
      'surprise=1',
    ]) {
      const res = await api.get(`/v1/events?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.code, 'validation_error', query);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    }
  });

  it('GET /v1/events/stats counts received, pending, processed and failed, and the failure codes', async () => {
    const api = await tenantApi('Stats');
    await api.post('/v1/meters', {
      eventType: 'metered',
      aggregation: 'count',
      unitPrice: 1,
      currency: 'USD',
    });
    const res = await api.post('/v1/events', {
      events: [
        { id: 's-1', type: 'metered' },
        { id: 's-2', type: 'metered' },
        { id: 's-3', type: 'free' },
        { id: 's-4', type: 'purchase', properties: { amount: 0 } },
        { id: 's-5', type: 'purchase', properties: { amount: 5 } },
      ],
    });
    assert.equal(res.body.accepted, 5, res.text);
    await settled(api, ['s-1', 's-2', 's-3', 's-4', 's-5']);

    const byType = await api.get('/v1/events/stats');
    assert.equal(byType.status, 200, byType.text);
    assert.equal(byType.body.groupBy, 'type');
    assert.deepEqual(byType.body.totals, {
      received: 5,
      pending: 0,
      processed: 2,
      failed: 3,
      failureReasons: [
        { code: 'account_required', count: 2 },
        { code: 'invalid_purchase', count: 1 },
      ],
    });
    assert.deepEqual(byType.body.data, [
      {
        key: 'free',
        received: 1,
        pending: 0,
        processed: 1,
        failed: 0,
        failureReasons: [],
      },
      {
        key: 'metered',
        received: 2,
        pending: 0,
        processed: 0,
        failed: 2,
        failureReasons: [{ code: 'account_required', count: 2 }],
      },
      {
        key: 'purchase',
        received: 2,
        pending: 0,
        processed: 1,
        failed: 1,
        failureReasons: [{ code: 'invalid_purchase', count: 1 }],
      },
    ]);

    const byHour = await api.get('/v1/events/stats?groupBy=hour');
    assert.equal(byHour.status, 200);
    assert.ok(byHour.body.data.every((b: { key: string }) => /^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/.test(b.key)));
    assert.equal(
      byHour.body.data.reduce((n: number, b: { received: number }) => n + b.received, 0),
      5,
    );
    const byDay = await api.get('/v1/events/stats?groupBy=day');
    assert.ok(byDay.body.data.every((b: { key: string }) => /^\d{4}-\d{2}-\d{2}$/.test(b.key)));
    assert.equal(byDay.body.totals.failed, 3);

    const past = await api.get(
      `/v1/events/stats?from=${encodeURIComponent('2020-01-01T00:00:00Z')}&to=${encodeURIComponent('2020-01-02T00:00:00Z')}`,
    );
    assert.deepEqual(past.body.data, []);
    assert.deepEqual(past.body.totals, {
      received: 0,
      pending: 0,
      processed: 0,
      failed: 0,
      failureReasons: [],
    });

    for (const query of [
      'groupBy=week',
      'from=nope',
      `from=${encodeURIComponent('2026-01-01T00:00:00Z')}&to=${encodeURIComponent('2026-01-01T00:00:00Z')}`,
      `from=${encodeURIComponent('2024-01-01T00:00:00Z')}&to=${encodeURIComponent('2026-01-01T00:00:00Z')}`,
      `groupBy=hour&from=${encodeURIComponent('2026-01-01T00:00:00Z')}&to=${encodeURIComponent('2026-03-01T00:00:00Z')}`,
      'limit=5',
    ]) {
      const bad = await api.get(`/v1/events/stats?${query}`);
      assert.equal(bad.status, 400, query);
      assert.equal(bad.body.code, 'validation_error', query);
    }
  });

  it('event types: create, list, get, replace, delete; each refusal with its status and code', async () => {
    const api = await tenantApi('Event types');
    const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
    const created = await api.post('/v1/event-types', { type: 'job.done', schema });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(
      { ...created.body, createdAt: undefined, updatedAt: undefined },
      { type: 'job.done', schema, version: 1, createdAt: undefined, updatedAt: undefined },
    );
    const twice = await api.post('/v1/event-types', { type: 'job.done', schema });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.code, 'event_type_exists');

    for (const bad of [
      { type: 'x', schema: { type: 'object', properties: { n: { type: 'integr' } } } },
      { type: 'x', schema: { type: 'object', notAKeyword: true } },
      { type: 'x', schema: { $ref: 'https://example.com/schema.json' } },
      { type: 'x', schema: { type: 'object', properties: { s: { type: 'string', pattern: '(' } } } },
    ]) {
      const res = await api.post('/v1/event-types', bad);
      assert.equal(res.status, 422, JSON.stringify(bad));
      assert.equal(res.body.code, 'invalid_event_schema');
      assert.equal(res.body.errors[0].field, 'schema');
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    }
    const huge = {
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: 800 }, (_, i) => [`p${i}`, { type: 'string' }])),
    };
    for (const bad of [
      { type: 'x' },
      { type: 'x', schema: [] },
      { type: 'x', schema: 'object' },
      { type: 'x', schema: true },
      { type: 'bad type!', schema: {} },
      { type: 'x', schema: {}, extra: 1 },
      { type: 'x', schema: huge },
    ]) {
      const res = await api.post('/v1/event-types', bad);
      assert.equal(res.status, 400, JSON.stringify(bad).slice(0, 80));
      assert.equal(res.body.code, 'validation_error');
    }
    assert.equal((await api.get('/v1/event-types/x')).status, 404);

    for (const type of ['b.one', 'a.two', 'c.three']) {
      assert.equal((await api.post('/v1/event-types', { type, schema: {} })).status, 201);
    }
    const page1 = await api.get('/v1/event-types?limit=2');
    assert.equal(page1.status, 200);
    assert.deepEqual(
      page1.body.data.map((t: { type: string }) => t.type),
      ['a.two', 'b.one'],
    );
    const page2 = await api.get(`/v1/event-types?limit=2&cursor=${page1.body.nextCursor}`);
    assert.deepEqual(
      page2.body.data.map((t: { type: string }) => t.type),
      ['c.three', 'job.done'],
    );
    assert.equal(page2.body.nextCursor, null);
    assert.equal((await api.get('/v1/event-types?limit=0')).status, 400);

    const got = await api.get('/v1/event-types/job.done');
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.schema, schema);
    const missing = await api.get('/v1/event-types/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'event_type_not_found');

    const replaced = await put(api, '/v1/event-types/job.done', { schema: { type: 'object' } });
    assert.equal(replaced.status, 200, replaced.text);
    assert.equal(replaced.body.version, 2);
    assert.deepEqual(replaced.body.schema, { type: 'object' });
    assert.equal((await put(api, '/v1/event-types/nope', { schema: {} })).body.code, 'event_type_not_found');
    const badPut = await put(api, '/v1/event-types/job.done', { schema: { type: 'nothing' } });
    assert.equal(badPut.status, 422);
    assert.equal((await put(api, '/v1/event-types/job.done', { schema: 1 })).status, 400);
    assert.equal((await put(api, '/v1/event-types/job.done', { type: 'x', schema: {} })).status, 400);
    assert.equal((await api.get('/v1/event-types/job.done')).body.version, 2);

    assert.equal((await del(api, '/v1/event-types/job.done')).status, 204);
    const gone = await del(api, '/v1/event-types/job.done');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, 'event_type_not_found');
    assert.equal((await api.get('/v1/event-types/job.done')).status, 404);

    // Another tenant sees none of them.
    const other = await tenantApi('Event types, other');
    assert.deepEqual((await other.get('/v1/event-types')).body.data, []);
    assert.equal((await other.get('/v1/event-types/a.two')).status, 404);
  });

  it('an event breaking its type schema fails schema_violation with the messages: never retried, never charged', async () => {
    const api = await tenantApi('Schemas');
    const type = `llm.call.${Date.now()}`;
    const wallet = await api.account({ currency: 'USD' });
    await api.deposit(wallet, 1000);
    assert.equal(
      (
        await api.post('/v1/meters', {
          eventType: type,
          aggregation: 'sum',
          property: 'tokens',
          unitPrice: 2,
          currency: 'USD',
        })
      ).status,
      201,
    );
    const created = await api.post('/v1/event-types', {
      type,
      schema: {
        type: 'object',
        properties: { tokens: { type: 'integer', maximum: 100 }, model: { enum: ['small', 'large'] } },
        required: ['tokens', 'model'],
        additionalProperties: false,
      },
    });
    assert.equal(created.status, 201, created.text);
    const workerUrl = stack.url('transaction-worker');
    const failedBefore = await metricSum(
      workerUrl,
      'tally_usage_events_processed_total',
      `type="${type}"`,
      'outcome="failed"',
    );

    const res = await api.post('/v1/events', {
      events: [
        { id: 'good', type, accountId: wallet, properties: { tokens: 10, model: 'small' } },
        { id: 'too-many', type, accountId: wallet, properties: { tokens: 500, model: 'small' } },
        { id: 'odd', type, accountId: wallet, properties: { tokens: 5, model: 'huge', extra: true } },
      ],
    });
    assert.equal(res.body.accepted, 3, res.text);
    const done = await settled(api, ['good', 'too-many', 'odd']);
    assert.equal(done.get('good')!.status, 'processed');
    assert.equal((done.get('good')!.billing as { status: string }).status, 'charged');
    const tooMany = done.get('too-many')!;
    assert.equal(tooMany.status, 'failed');
    assert.deepEqual(tooMany.billing, null);
    assert.equal((tooMany.failure as { code: string }).code, 'schema_violation');
    assert.match((tooMany.failure as { message: string }).message, /properties\/tokens must be <= 100/);
    const odd = (done.get('odd')!.failure as { message: string }).message;
    assert.match(odd, /must NOT have additional properties \(extra\)/);
    assert.match(odd, /properties\/model must be equal to one of the allowed values/);

    // Charged: the valid event only (10 × 2); the failed ones once in the failed store, no charge.
    assert.deepEqual((await api.get(`/v1/accounts/${wallet}`)).body.balance.posted, 980);
    const rows = await db.query(
      `SELECT f.event_id, f.code FROM usage_failed f JOIN usage_events e ON e.tenant_id = f.tenant_id AND e.id = f.event_id
        WHERE e.type = $1 ORDER BY 1`,
      [type],
    );
    assert.deepEqual(
      rows.map((r: { event_id: string; code: string }) => [r.event_id, r.code]),
      [
        ['odd', 'schema_violation'],
        ['too-many', 'schema_violation'],
      ],
    );
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM transactions t JOIN ledger_entries l ON l.transaction_id = t.id
        WHERE t.type = 'charge' AND l.account_id = $1`,
      [wallet],
    );
    assert.equal(n, 1);
    assert.equal(
      (await metricSum(
        workerUrl,
        'tally_usage_events_processed_total',
        `type="${type}"`,
        'outcome="failed"',
      )) - failedBefore,
      2,
    );
    assert.ok(
      (await metricSum(workerUrl, 'tally_usage_event_latency_seconds_count', 'outcome="processed"')) >= 1,
    );

    const stats = await api.get('/v1/events/stats');
    assert.deepEqual(stats.body.totals.failureReasons, [{ code: 'schema_violation', count: 2 }]);

    // A PUT reaches the worker at its next batch: the looser schema takes what the old one refused.
    assert.equal((await put(api, `/v1/event-types/${type}`, { schema: { type: 'object' } })).status, 200);
    await api.post('/v1/events', {
      id: 'after-put',
      type,
      accountId: wallet,
      properties: { tokens: 500, model: 'huge' },
    });
    assert.equal((await settled(api, ['after-put'])).get('after-put')!.status, 'processed');
    // And a DELETE: no schema at all, while a new strict one applies again after a POST.
    assert.equal((await del(api, `/v1/event-types/${type}`)).status, 204);
    await api.post('/v1/event-types', { type, schema: { type: 'object', required: ['never'] } });
    await api.post('/v1/events', { id: 'after-repost', type, accountId: wallet, properties: { tokens: 1 } });
    const reposted = (await settled(api, ['after-repost'])).get('after-repost')!;
    assert.equal(reposted.status, 'failed');
    assert.match((reposted.failure as { message: string }).message, /must have required property 'never'/);
  });

  it("unregistered, unmetered types count as `other` in the worker's metrics", async () => {
    const api = await tenantApi('Metrics');
    const workerUrl = stack.url('transaction-worker');
    const type = `random.${Date.now()}`;
    const before = await metricSum(
      workerUrl,
      'tally_usage_events_processed_total',
      'type="other"',
      'outcome="processed"',
    );
    await api.post('/v1/events', { id: 'm-1', type });
    await settled(api, ['m-1']);
    assert.equal(
      (await metricSum(
        workerUrl,
        'tally_usage_events_processed_total',
        'type="other"',
        'outcome="processed"',
      )) - before,
      1,
    );
    assert.equal(await metricSum(workerUrl, 'tally_usage_events_processed_total', `type="${type}"`), 0);
  });
});
