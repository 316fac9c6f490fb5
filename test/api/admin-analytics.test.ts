import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { newId } from '#domain';
import { dropDatabase, migrateDatabase } from '#persistence';
import { openDataSource, send, separateDatabase, signIn, waitFor } from '#test-support';
import { insertTenant } from '../../apps/admin/src/tenants/insert-tenant.js';
import { InProcessStack } from '../support/in-process.js';

// The dashboard's time series, usage graphs and event analytics, over data this file writes
// straight into the tables with known times. A database of its own: bare rows (succeeded
// transactions without entries, charged usage without a charge) would fail the ledger checks of the
// run's other files, and the outbox and the samples are not a tenant's.

const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('admin: time series, usage graphs and event analytics', () => {
  let stack: InProcessStack;
  let db: DataSource;
  let token: string;
  let tenantId: string;
  /** A window three days ago on a whole minute: five one-minute buckets. */
  const base = Math.floor((Date.now() - 3 * 24 * 60 * MIN) / MIN) * MIN;
  const run = randomBytes(3).toString('hex');

  const get = async (path: string) => {
    const res = await send(stack.url('admin'), 'GET', path, { authorization: `Bearer ${token}` });
    return { status: res.status, body: res.body, type: res.headers.get('content-type') ?? '' };
  };
  const windowOf = (from: number, minutes: number, step = 60) =>
    `from=${iso(from)}&to=${iso(from + minutes * MIN)}&step=${step}`;
  const line = (body: { series: { name: string; values: (number | null)[] }[] }, name: string) =>
    body.series.find((s) => s.name === name)?.values;

  const { ownerUrl, appUrl } = separateDatabase('analytics');
  const operator = { email: 'viewer@analytics.test', password: randomBytes(12).toString('hex') };
  const newTenant = async (name: string) => db.transaction((m) => insertTenant(m, name));

  beforeAll(async () => {
    await migrateDatabase({ DATABASE_MIGRATION_URL: ownerUrl, DATABASE_STATEMENT_TIMEOUT_MS: 60_000 });
    stack = await InProcessStack.start('analytics', ['admin'], {
      DATABASE_URL: appUrl,
      DATABASE_MIGRATION_URL: ownerUrl,
      ADMIN_EMAIL: operator.email,
      ADMIN_PASSWORD: operator.password,
      ADMIN_JWT_SECRET: 'a'.repeat(40),
      ADMIN_METRICS_SAMPLE_SECONDS: '1',
    });
    db = await openDataSource(2, ownerUrl);
    token = (await signIn(stack.url('admin'), operator.email, operator.password)).accessToken;
    tenantId = (await newTenant('Analytics')).tenantId;
    const txn = (type: string, atMs: number, tookMs: number | null, status = 'succeeded') =>
      db.query(
        `INSERT INTO transactions (id, tenant_id, type, status, amount, currency, created_at, completed_at)
         VALUES ($1, $2, $3, $4, 100, 'USD', $5, $6)`,
        [
          newId('txn', atMs),
          tenantId,
          type,
          status,
          new Date(atMs),
          tookMs === null ? null : new Date(atMs + tookMs),
        ],
      );
    // Minute 0: two deposits (100 and 300 ms) and a transfer (200 ms); minute 2: one deposit still open.
    await txn('deposit', base + 5_000, 100);
    await txn('deposit', base + 40_000, 300);
    await txn('transfer', base + 50_000, 200);
    await txn('deposit', base + 2 * MIN + 1_000, null, 'pending');
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
    await dropDatabase(ownerUrl);
  });

  it('throughput: transactions per bucket and type, only the tenant asked, zero where none', async () => {
    const res = await get(`/admin/api/metrics/series/throughput?${windowOf(base, 5)}&tenantId=${tenantId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.step, 60);
    assert.deepEqual(
      res.body.times,
      [0, 1, 2, 3, 4].map((i) => (base + i * MIN) / 1000),
    );
    assert.deepEqual(line(res.body, 'deposit'), [2, 0, 1, 0, 0]);
    assert.deepEqual(line(res.body, 'transfer'), [1, 0, 0, 0, 0]);
    assert.deepEqual(
      res.body.series.map((s: { name: string }) => s.name),
      ['deposit', 'transfer'],
    );
  });

  it('latency: p50, p95 and p99 of the finished transactions per bucket, null where none finished', async () => {
    const res = await get(`/admin/api/metrics/series/latency?${windowOf(base, 3)}&tenantId=${tenantId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(line(res.body, 'p50'), [200, null, null]);
    // percentile_cont interpolates: 0.95 of (100, 200, 300) is 290, 0.99 is 298.
    assert.deepEqual(line(res.body, 'p95'), [290, null, null]);
    assert.deepEqual(line(res.body, 'p99'), [298, null, null]);
  });

  it('outbox: publish lag per bucket of publication, and the sampled backlog', async () => {
    const day = Date.UTC(2001, 0, 1) + Math.floor(Math.random() * 360) * 24 * 60 * MIN;
    const ids: string[] = [];
    for (const [publishedAt, lagMs] of [
      [day + 10_000, 50],
      [day + 20_000, 150],
      [day + 3 * MIN, 1000],
    ]) {
      const id = `analytics-${run}-${ids.length}`;
      ids.push(id);
      await db.query(
        `INSERT INTO outbox (message_id, exchange, routing_key, message_type, payload, created_at, published_at)
         VALUES ($1, 'x', 'k', 'test', '{}', $2, $3)`,
        [id, new Date(publishedAt - lagMs), new Date(publishedAt)],
      );
    }
    try {
      const res = await get(`/admin/api/metrics/series/outbox?${windowOf(day, 4)}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(line(res.body, 'lag max'), [150, null, null, 1000]);
      assert.deepEqual(line(res.body, 'lag p50'), [100, null, null, 1000]);
    } finally {
      await db.query(`DELETE FROM outbox WHERE message_id = ANY ($1)`, [ids]);
    }
  });

  it('queue depths: the highest sample per bucket, null where there is none', async () => {
    const series = `queue:test-${run}`;
    for (const [at, value] of [
      [base + 1_000, 3],
      [base + 30_000, 7],
      [base + 2 * MIN, 4],
    ])
      await db.query(`INSERT INTO metric_samples (series, sampled_at, value) VALUES ($1, $2, $3)`, [
        series,
        new Date(at),
        value,
      ]);
    const res = await get(`/admin/api/metrics/series/queues?${windowOf(base, 3)}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(line(res.body, `test-${run}`), [7, null, 4]);
  });

  it('the admin samples queue depths and the outbox backlog, and deletes samples past the retention', async () => {
    const since = Date.now() - 1000;
    const old = `queue:old-${run}`;
    await db.query(
      `INSERT INTO metric_samples (series, sampled_at, value) VALUES ($1, now() - interval '15 days', 1)`,
      [old],
    );
    const sampled = await waitFor('a sample of the queues and the backlog', async () => {
      const res = await get(
        `/admin/api/metrics/series/queues?from=${iso(since)}&to=${iso(Date.now() + 2000)}&step=1`,
      );
      const outbox = await get(
        `/admin/api/metrics/series/outbox?from=${iso(since)}&to=${iso(Date.now() + 2000)}&step=1`,
      );
      const commands = line(res.body, 'transaction-worker.commands')?.filter((v) => v !== null) ?? [];
      const backlog = line(outbox.body, 'backlog')?.filter((v) => v !== null) ?? [];
      return commands.length > 0 && backlog.length > 0 && { commands, backlog };
    });
    assert.ok(sampled.commands.every((v) => Number.isInteger(v) && v >= 0));
    await waitFor('the sample past the retention deleted', async () => {
      const [row] = await db.query(`SELECT count(*)::int AS n FROM metric_samples WHERE series = $1`, [old]);
      return row.n === 0;
    });
  });

  it('usage per meter: events, quantity and the charged amount per bucket, per account, exact', async () => {
    const usd = newId('mtr');
    const jpy = newId('mtr');
    await db.query(
      `INSERT INTO meters (id, tenant_id, event_type, aggregation, property, unit_price, currency)
       VALUES ($1, $3, 'api.call', 'sum', 'tokens', 2, 'USD'), ($2, $3, 'sms.sent', 'count', NULL, 5, 'JPY')`,
      [usd, jpy, tenantId],
    );
    const [account, other] = [newId('acc'), newId('acc')];
    for (const acc of [account, other])
      await db.query(
        `INSERT INTO accounts (id, tenant_id, kind, currency) VALUES ($1, $2, 'customer', 'USD')`,
        [acc, tenantId],
      );
    const usage = async (
      meter: string,
      type: string,
      acc: string,
      atMs: number,
      quantity: string,
      amount: string,
      billing = 'charged',
    ) => {
      const id = `u-${run}-${randomBytes(3).toString('hex')}`;
      await db.query(
        `INSERT INTO usage_events (tenant_id, id, type, account_id, occurred_at, received_at, status)
         VALUES ($1, $2, $3, $4, $5, $5, 'processed')`,
        [tenantId, id, type, acc, new Date(atMs)],
      );
      await db.query(
        `INSERT INTO usage_processed (tenant_id, event_id, type, account_id, occurred_at, category, worker_id,
                                      processed_at, meter_id, quantity, amount, currency, billing_status, unbilled_code)
         VALUES ($1, $2, $3, $4, $5, 'standard', 'test', $5, $6, $7, $8, $9, $10, $11)`,
        [
          tenantId,
          id,
          type,
          acc,
          new Date(atMs),
          meter,
          quantity,
          amount,
          meter === usd ? 'USD' : 'JPY',
          billing,
          billing === 'unbilled' ? 'insufficient_funds' : null,
        ],
      );
    };
    // Beyond 2^53 on purpose: the amounts stay exact.
    await usage(usd, 'api.call', account, base + 1_000, '1200', '2400');
    await usage(usd, 'api.call', account, base + 2_000, '4503599627370497', '9007199254740994');
    await usage(usd, 'api.call', account, base + MIN + 1_000, '10', '20', 'unbilled');
    await usage(jpy, 'sms.sent', account, base + 2 * MIN, '1', '5');
    await usage(usd, 'api.call', other, base + 1_000, '7', '14');

    const res = await get(
      `/admin/api/usage/series?${windowOf(base, 3)}&tenantId=${tenantId}&accountId=${account}`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.meters, [
      {
        meterId: usd,
        eventType: 'api.call',
        currency: 'USD',
        events: [2, 1, 0],
        quantity: ['4503599627371697', '10', '0'],
        amount: ['9007199254743394', '0', '0'],
        totalQuantity: '4503599627371707',
        totalAmount: '9007199254743394',
      },
      {
        meterId: jpy,
        eventType: 'sms.sent',
        currency: 'JPY',
        events: [0, 0, 1],
        quantity: ['0', '0', '1'],
        amount: ['0', '0', '5'],
        totalQuantity: '1',
        totalAmount: '5',
      },
    ]);
    const one = await get(`/admin/api/usage/series?${windowOf(base, 3)}&tenantId=${tenantId}&meterId=${usd}`);
    assert.deepEqual(
      one.body.meters.map((m: { meterId: string; events: number[] }) => [m.meterId, m.events]),
      [[usd, [3, 1, 0]]],
    );
    // Usage events processed show in the tenant's throughput too.
    const throughput = await get(
      `/admin/api/metrics/series/throughput?${windowOf(base, 3)}&tenantId=${tenantId}`,
    );
    assert.deepEqual(line(throughput.body, 'usage events'), [3, 1, 1]);
  });

  it("events: a tenant's list pages by cursor with its filters; stats by type and hour with failure reasons", async () => {
    const events = await newTenant('Analytics events');
    const at = base + 10 * MIN;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `ev-${i}`;
      ids.push(id);
      const failed = i % 2 === 1;
      await db.query(
        `INSERT INTO usage_events (tenant_id, id, type, occurred_at, received_at, status) VALUES ($1, $2, $3, $4, $4, $5)`,
        [
          events.tenantId,
          id,
          failed ? 'page.view' : 'api.call',
          new Date(at + i * 1000),
          failed ? 'failed' : 'received',
        ],
      );
      if (failed)
        await db.query(
          `INSERT INTO usage_failed (tenant_id, event_id, code, reason, worker_id) VALUES ($1, $2, $3, 'bad', 'test')`,
          [events.tenantId, id, i === 1 ? 'schema_violation' : 'invalid_quantity'],
        );
    }
    const list = `/admin/api/events?tenantId=${events.tenantId}&limit=2`;
    const first = await get(list);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(
      first.body.data.map((e: { id: string }) => e.id),
      ['ev-4', 'ev-3'],
    );
    assert.deepEqual(first.body.data[1].failure, { code: 'invalid_quantity', message: 'bad' });
    const second = await get(`${list}&cursor=${first.body.nextCursor}`);
    assert.deepEqual(
      second.body.data.map((e: { id: string }) => e.id),
      ['ev-2', 'ev-1'],
    );
    const third = await get(`${list}&cursor=${second.body.nextCursor}`);
    assert.deepEqual(
      [third.body.data.map((e: { id: string }) => e.id), third.body.nextCursor],
      [['ev-0'], null],
    );
    const failed = await get(`/admin/api/events?tenantId=${events.tenantId}&status=failed&type=page.view`);
    assert.deepEqual(
      failed.body.data.map((e: { id: string }) => e.id),
      ['ev-3', 'ev-1'],
    );
    const pending = await get(
      `/admin/api/events?tenantId=${events.tenantId}&status=pending&from=${iso(at + 1000)}&to=${iso(at + 4000)}`,
    );
    assert.deepEqual(
      pending.body.data.map((e: { id: string }) => e.id),
      ['ev-2'],
    );

    const range = `tenantId=${events.tenantId}&from=${iso(base)}&to=${iso(base + 60 * MIN)}`;
    const byType = await get(`/admin/api/events/stats?${range}`);
    assert.equal(byType.status, 200, JSON.stringify(byType.body));
    assert.deepEqual(byType.body.totals, {
      received: 5,
      pending: 3,
      processed: 0,
      failed: 2,
      failureReasons: [
        { code: 'invalid_quantity', count: 1 },
        { code: 'schema_violation', count: 1 },
      ],
    });
    assert.deepEqual(
      byType.body.data.map((b: { key: string; received: number }) => [b.key, b.received]),
      [
        ['api.call', 3],
        ['page.view', 2],
      ],
    );
    const byHour = await get(`/admin/api/events/stats?${range}&groupBy=hour`);
    const hours = byHour.body.data.reduce((n: number, b: { received: number }) => n + b.received, 0);
    assert.equal(hours, 5);
    assert.ok(byHour.body.data.every((b: { key: string }) => /^\d{4}-\d\d-\d\dT\d\d:00:00Z$/.test(b.key)));
  });

  it('the lists page: tenants, accounts and usage events, each next page older and different', async () => {
    /** Every page of `path` at `limit`, following `nextBefore`: the rows' ids, page by page. */
    const pages = async (path: string, limit = 2, key = 'id') => {
      const seen: string[][] = [];
      let before: string | null = null;
      do {
        const sep = path.includes('?') ? '&' : '?';
        const res = await get(
          `${path}${sep}limit=${limit}${before ? `&before=${encodeURIComponent(before)}` : ''}`,
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        seen.push(res.body.data.map((r: Record<string, string>) => r[key]));
        before = res.body.nextBefore;
      } while (before && seen.length < 20);
      return seen;
    };
    const tenants = await pages('/admin/api/tenants', 1);
    const all = tenants.flat();
    assert.equal(new Set(all).size, all.length, 'no tenant twice');
    assert.ok(all.includes(tenantId), JSON.stringify(tenants));
    assert.deepEqual(
      tenants.map((p) => p.length),
      all.map(() => 1),
    );
    assert.deepEqual(all, [...all].sort().reverse(), 'newest first');

    const accounts = await pages(`/admin/api/accounts?tenantId=${tenantId}`);
    assert.equal(accounts.flat().length, 2);
    assert.deepEqual(
      accounts.map((p) => p.length),
      [2],
    );
    const one = await get(`/admin/api/accounts?tenantId=${tenantId}&limit=1`);
    const rest = await get(`/admin/api/accounts?tenantId=${tenantId}&limit=1&before=${one.body.nextBefore}`);
    assert.notEqual(one.body.data[0].id, rest.body.data[0].id);
    assert.equal(rest.body.nextBefore, null);

    // Usage events by time of receipt: five of this tenant's, two pages of two and one of one.
    const usage = await pages(`/admin/api/usage-events?tenantId=${tenantId}`);
    assert.deepEqual(
      usage.map((p) => p.length),
      [2, 2, 1],
    );
    assert.equal(new Set(usage.flat()).size, 5);
    const first = await get(`/admin/api/usage-events?tenantId=${tenantId}&limit=5`);
    assert.deepEqual(
      first.body.data.map((e: { id: string }) => e.id),
      usage.flat(),
    );
    assert.ok(first.body.data.every((e: { currency: string }) => ['USD', 'JPY'].includes(e.currency)));
    assert.equal((await get(`/admin/api/usage-events?before=bm90LWEtY3Vyc29y`)).status, 400);
  });

  it('bad windows, steps, cursors and missing tenants are 400 problems', async () => {
    for (const path of [
      `/admin/api/metrics/series/throughput?step=0`,
      `/admin/api/metrics/series/throughput?step=1.5`,
      `/admin/api/metrics/series/latency?from=${iso(base + MIN)}&to=${iso(base)}`,
      `/admin/api/metrics/series/queues?from=yesterday`,
      `/admin/api/metrics/series/outbox?${windowOf(base, 24 * 60, 1)}`,
      `/admin/api/metrics/series/throughput?from=${iso(base - 100 * 24 * 60 * MIN)}&to=${iso(base)}&step=86400`,
      `/admin/api/usage/series?${windowOf(base, 3)}`,
      `/admin/api/events?status=pending`,
      `/admin/api/events?tenantId=${tenantId}&status=lost`,
      `/admin/api/events?tenantId=${tenantId}&cursor=bm90IGEgY3Vyc29y`,
      `/admin/api/events/stats?tenantId=${tenantId}&groupBy=week`,
      `/admin/api/events/stats?tenantId=${tenantId}&groupBy=hour&from=${iso(base - 40 * 24 * 60 * MIN)}&to=${iso(base)}`,
    ]) {
      const res = await get(path);
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      assert.match(res.type, /application\/problem\+json/, path);
      assert.equal(res.body.code, 'validation_error', path);
    }
  });
});
