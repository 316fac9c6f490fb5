import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, openDataSource, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

let seq = 0;
const eventId = (tag: string) => `${tag}-${Date.now()}-${seq++}`;

describe('usage events and meters (docs/api.md, Usage events)', () => {
  let stack: InProcessStack;
  let api: Api;
  let db: DataSource;

  const send = (body: unknown, headers?: Record<string, string>) => api.post('/v1/events', body, headers);
  const balance = async (account: string) => (await api.get(`/v1/accounts/${account}`)).body.balance;
  /** Waits until every event has left `received` and answers them by id. */
  const processed = async (ids: string[]) => {
    const events = new Map<string, Record<string, unknown> & { status: string }>();
    await waitFor(
      `${ids.length} events to be processed`,
      async () => {
        for (const id of ids) {
          if (events.has(id)) continue;
          const res = await api.get(`/v1/events/${encodeURIComponent(id)}`);
          if (res.status === 200 && res.body.status !== 'received') events.set(id, res.body);
        }
        return events.size === ids.length;
      },
      30_000,
    );
    return events;
  };
  const chargedFor = async (account: string): Promise<{ n: number; total: number }> => {
    const [row] = await db.query(
      `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::int AS total FROM transactions
        WHERE source_account_id = $1 AND type = 'charge' AND status = 'succeeded'`,
      [account],
    );
    return row;
  };
  /**
   * The outcome events of `type` about `account` in the outbox: packed in the batches'
   * `usage.outcomes` messages, and alone (their own message each, which they no longer get).
   */
  const outcomeEvents = async (type: string, account: string) => {
    const [row] = await db.query(
      `SELECT (SELECT count(*)::int FROM outbox o, jsonb_array_elements(o.payload->'data'->'outcomes') x
                WHERE o.routing_key = 'usage.outcomes' AND x->'event'->>'type' = $1
                  AND x->'event'->'data'->>'accountId' = $2) AS packed,
              (SELECT count(*)::int FROM outbox
                WHERE routing_key = $1 AND payload->'data'->>'accountId' = $2) AS alone`,
      [type, account],
    );
    return row as { packed: number; alone: number };
  };
  const meter = (body: Record<string, unknown>) => api.meter(body);
  const wallet = async (amount: number, currency = 'CREDITS') => {
    const account = await api.account({ currency });
    if (amount > 0) await api.deposit(account, amount, currency);
    return account;
  };

  beforeAll(async () => {
    stack = await InProcessStack.start('usage', ['gateway', 'transaction-worker'], {
      USAGE_HIGH_VALUE_THRESHOLD: '10000',
    });
    api = new Api(stack.url('gateway'), (await newTenant('Usage')).apiKey);
    db = await openDataSource(2);
    await meter({ eventType: 'api_call', aggregation: 'count', unitPrice: 5, currency: 'CREDITS' });
    await meter({
      eventType: 'tokens',
      aggregation: 'sum',
      property: 'count',
      unitPrice: 3,
      currency: 'CREDITS',
    });
  });
  afterAll(async () => {
    await db?.destroy();
    await stack.stop();
  });

  it('meters: 201 Meter, listed; a second meter for a type ⇒ 409; bad meters ⇒ 400', async () => {
    const m = await meter({
      eventType: 'storage.gb',
      aggregation: 'sum',
      property: 'gb',
      unitPrice: 7,
      currency: 'USD',
    });
    assert.match(m.id, /^mtr_/);
    assert.deepEqual(
      { ...m, id: undefined, createdAt: undefined },
      {
        id: undefined,
        createdAt: undefined,
        eventType: 'storage.gb',
        aggregation: 'sum',
        property: 'gb',
        unitPrice: 7,
        currency: 'USD',
      },
    );
    const again = await api.post('/v1/meters', {
      eventType: 'storage.gb',
      aggregation: 'count',
      unitPrice: 1,
      currency: 'USD',
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'meter_exists');
    for (const bad of [
      { eventType: 'x', aggregation: 'sum', unitPrice: 1, currency: 'USD' },
      { eventType: 'x', aggregation: 'count', property: 'p', unitPrice: 1, currency: 'USD' },
      { eventType: 'x', aggregation: 'max', unitPrice: 1, currency: 'USD' },
      { eventType: 'x', aggregation: 'count', unitPrice: 0.5, currency: 'USD' },
      { eventType: 'x', aggregation: 'count', unitPrice: 1, currency: 'usd' },
      { eventType: 'x', aggregation: 'count', unitPrice: 1, currency: 'USD', extra: true },
    ]) {
      const res = await api.post('/v1/meters', bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(res.body.code, 'validation_error');
    }
    const list = await api.get('/v1/meters?limit=100');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.map((x: { eventType: string }) => x.eventType).sort(), [
      'api_call',
      'storage.gb',
      'tokens',
    ]);
  });

  it('a batch with some bad events: the good ones are accepted, the bad ones rejected by index', async () => {
    const account = await wallet(0);
    // Accounts that exist but are not this tenant's customers: another tenant's, and a system one.
    const others = new Api(stack.url('gateway'), (await newTenant('Usage neighbour')).apiKey);
    const theirs = await others.account({ currency: 'CREDITS' });
    await api.deposit(account, 1, 'CREDITS'); // makes the tenant's system accounts
    const [{ id: system }] = await db.query(
      `SELECT a.id FROM accounts a JOIN accounts c ON c.tenant_id = a.tenant_id
        WHERE c.id = $1 AND a.kind <> 'customer' LIMIT 1`,
      [account],
    );
    const good = [eventId('g'), eventId('g'), eventId('g')];
    const res = await send({
      events: [
        { id: good[0], type: 'page_view', accountId: account },
        { id: eventId('b'), type: 'page_view', surprise: 1 },
        { id: good[1], type: 'page_view', timestamp: new Date(Date.now() - 60_000).toISOString() },
        { id: 'not an id', type: 'page_view' },
        { id: eventId('b'), type: 'page_view', accountId: 'acc_00000000000000000000000000' },
        { id: eventId('b'), type: 'page_view', timestamp: '2026-13-40' },
        {
          id: good[2],
          type: 'page_view',
          properties: { plan: 'pro', n: 1, ok: true },
        },
        'not an event',
        { id: eventId('b'), type: 'page_view', accountId: theirs },
        { id: eventId('b'), type: 'page_view', accountId: system },
      ],
    });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.accepted, 3);
    assert.equal(res.body.duplicates, 0);
    assert.deepEqual(
      res.body.rejected.map((r: { index: number; code: string }) => [r.index, r.code]),
      [
        [1, 'validation_error'],
        [3, 'validation_error'],
        [4, 'account_not_found'],
        [5, 'validation_error'],
        [7, 'validation_error'],
        [8, 'account_not_found'],
        [9, 'account_not_found'],
      ],
    );
    assert.match(res.body.rejected[0].message, /surprise/);
    const done = await processed(good);
    assert.ok([...done.values()].every((e) => e.status === 'processed'));
    assert.equal((await api.get(`/v1/events/${good[2]}`)).body.billing, null);
  });

  it('stores properties exactly as sent (integers beyond 2^53, decimals)', async () => {
    const id = eventId('exact');
    const res = await api.request('POST', '/v1/events', {
      raw: `{"id":"${id}","type":"page_view","properties":{"big":12345678901234567890,"ratio":1.5}}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 202, res.text);
    await processed([id]);
    const text = (await api.get(`/v1/events/${id}`)).text;
    assert.match(text, /"big":12345678901234567890[,}]/);
    assert.match(text, /"ratio":1.5[,}]/);
  });

  it('refuses malformed requests as a whole: 400, nothing stored', async () => {
    const tooMany = { events: Array.from({ length: 501 }, (_, i) => ({ id: `x${i}`, type: 'a' })) };
    for (const body of [
      tooMany,
      { events: [] },
      { events: 'x' },
      { events: [{ id: 'x-envelope', type: 'a' }], extra: true },
      { id: eventId('s'), type: 'bad type!' },
      [1, 2],
    ]) {
      const res = await send(body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.code, 'validation_error');
    }
    // The envelope's instance takes the body's own fields: a reserved key is refused before that.
    for (const key of ['__proto__', 'constructor']) {
      const res = await api.request('POST', '/v1/events', {
        raw: `{"events":[{"id":"x-${key}","type":"a"}],"${key}":{"events":[]}}`,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.code, 'validation_error');
      assert.deepEqual(res.body.errors, [{ field: '(body)', message: `unknown field(s): ${key}` }]);
    }
    const single = await send({ id: eventId('s'), type: 'a', accountId: 'acc_00000000000000000000000000' });
    assert.equal(single.status, 404);
    assert.equal(single.body.code, 'account_not_found');
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM usage_events WHERE id LIKE 'x%'`);
    assert.equal(n, 0);
  });

  it('metered events debit exactly quantity × price, post to revenue, and emit usage.charged', async () => {
    const account = await wallet(100_000);
    const counts = [1, 10, 100, 0, 7];
    const ids = counts.map(() => eventId('tok'));
    const calls = [eventId('call'), eventId('call')];
    const res = await send({
      events: [
        ...counts.map((count, i) => ({
          id: ids[i],
          type: 'tokens',
          accountId: account,
          properties: { count },
        })),
        ...calls.map((id) => ({ id, type: 'api_call', accountId: account })),
      ],
    });
    assert.equal(res.body.accepted, 7);
    const done = await processed([...ids, ...calls]);
    const expected = counts.reduce((s, c) => s + c * 3, 0) + 2 * 5;
    assert.deepEqual(await balance(account), {
      posted: 100_000 - expected,
      held: 0,
      available: 100_000 - expected,
    });
    assert.deepEqual(await chargedFor(account), { n: 6, total: expected });
    const tok = done.get(ids[2])!;
    assert.deepEqual(
      { ...(tok.billing as object), transactionId: undefined, meterId: undefined },
      {
        status: 'charged',
        quantity: 100,
        amount: 300,
        currency: 'CREDITS',
        failure: null,
        transactionId: undefined,
        meterId: undefined,
      },
    );
    const charge = (
      await api.get(`/v1/transactions/${(tok.billing as { transactionId: string }).transactionId}`)
    ).body;
    assert.equal(charge.type, 'charge');
    assert.equal(charge.status, 'succeeded');
    assert.equal(charge.amount, 300);
    assert.deepEqual(await outcomeEvents('usage.charged', account), { packed: 6, alone: 0 });

    const byMeter = (await api.get(`/v1/usage?accountId=${account}&groupBy=meter`)).body;
    const tokens = byMeter.data.find((r: { eventType: string }) => r.eventType === 'tokens');
    const apiCalls = byMeter.data.find((r: { eventType: string }) => r.eventType === 'api_call');
    assert.deepEqual([tokens.events, tokens.quantity, tokens.amount], [5, 118, 354]);
    assert.deepEqual([apiCalls.events, apiCalls.quantity, apiCalls.amount], [2, 2, 10]);
    const byDay = (await api.get(`/v1/usage?accountId=${account}&groupBy=day`)).body;
    assert.equal(byDay.data.length, 1);
    assert.equal(byDay.data[0].day, new Date().toISOString().slice(0, 10));
    assert.equal(byDay.data[0].amount, expected);
    assert.equal(byDay.data[0].currency, 'CREDITS');
  });

  it('the same batch sent twice is charged once; the second answer counts duplicates', async () => {
    const account = await wallet(10_000);
    const batch = {
      events: Array.from({ length: 20 }, () => ({
        id: eventId('dup'),
        type: 'api_call',
        accountId: account,
      })),
    };
    const first = await send(batch);
    const second = await send(batch);
    const ids = batch.events.map((e) => e.id);
    assert.deepEqual(first.body, { ids, accepted: 20, duplicates: 0, rejected: [] });
    assert.deepEqual(second.body, { ids, accepted: 0, duplicates: 20, rejected: [] });
    await processed(batch.events.map((e) => e.id));
    assert.deepEqual(await chargedFor(account), { n: 20, total: 100 });
    const within = await send({
      events: [
        { id: 'twin', type: 'api_call', accountId: account },
        { id: 'twin', type: 'api_call', accountId: account },
      ],
    });
    assert.deepEqual(within.body, { ids: ['twin', 'twin'], accepted: 1, duplicates: 1, rejected: [] });
  });

  it('the same event id sent by 10 concurrent requests is accepted once and charged once', async () => {
    const account = await wallet(10_000);
    const id = eventId('race');
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        send({ id, type: 'tokens', accountId: account, properties: { count: 11 } }),
      ),
    );
    assert.ok(
      answers.every((a) => a.status === 202),
      answers.map((a) => a.text).join('\n'),
    );
    assert.equal(
      answers.reduce((s, a) => s + a.body.accepted, 0),
      1,
    );
    assert.equal(
      answers.reduce((s, a) => s + a.body.duplicates, 0),
      9,
    );
    await processed([id]);
    assert.deepEqual(await chargedFor(account), { n: 1, total: 33 });
  });

  it('a wallet running dry mid-stream: the rest are recorded unbilled, none lost, never below zero', async () => {
    const account = await wallet(1_000);
    // 100 per event on a meter of its own; 1,000 pays for exactly 10 of 15.
    await meter({ eventType: 'export', aggregation: 'count', unitPrice: 100, currency: 'CREDITS' });
    const start = Date.now() - 60_000;
    const ids = Array.from({ length: 15 }, () => eventId('dry'));
    // In two requests, to cross a message boundary as well.
    for (const part of [ids.slice(0, 7), ids.slice(7)]) {
      const res = await send({
        events: part.map((id) => ({
          id,
          type: 'export',
          accountId: account,
          timestamp: new Date(start + ids.indexOf(id) * 1000).toISOString(),
        })),
      });
      assert.equal(res.body.accepted, part.length);
    }
    const done = await processed(ids);
    const billing = ids.map(
      (id) => done.get(id)!.billing as { status: string; failure: { code: string } | null },
    );
    assert.equal(billing.filter((b) => b.status === 'charged').length, 10);
    const unbilled = billing.filter((b) => b.status === 'unbilled');
    assert.equal(unbilled.length, 5);
    assert.ok(unbilled.every((b) => b.failure?.code === 'insufficient_funds'));
    assert.deepEqual(await balance(account), { posted: 0, held: 0, available: 0 });
    assert.deepEqual(await outcomeEvents('usage.charge_failed', account), { packed: 5, alone: 0 });
    const usage = (await api.get(`/v1/usage?accountId=${account}&groupBy=meter`)).body.data[0];
    assert.deepEqual([usage.events, usage.quantity, usage.amount, usage.unbilledEvents], [15, 15, 1000, 5]);
  });

  it('events failing business rules go to the failed store with the reason, not retried; categories are set', async () => {
    const account = await wallet(0, 'USD');
    const bad = eventId('p');
    const noQuantity = eventId('t');
    const noAccount = eventId('c');
    const big = eventId('p');
    const small = eventId('p');
    const res = await send({
      events: [
        { id: bad, type: 'purchase', accountId: account, properties: { amount: -5 } },
        { id: noQuantity, type: 'tokens', accountId: account, properties: { count: 2.5 } },
        { id: noAccount, type: 'api_call' },
        { id: big, type: 'purchase', accountId: account, properties: { amount: 25_000 } },
        { id: small, type: 'purchase', accountId: account, properties: { amount: 20 } },
      ],
    });
    assert.equal(res.body.accepted, 5);
    const done = await processed([bad, noQuantity, noAccount, big, small]);
    const failure = (id: string) => [
      done.get(id)!.status,
      (done.get(id)!.failure as { code: string } | null)?.code,
    ];
    assert.deepEqual(failure(bad), ['failed', 'invalid_purchase']);
    assert.deepEqual(failure(noQuantity), ['failed', 'invalid_quantity']);
    assert.deepEqual(failure(noAccount), ['failed', 'account_required']);
    assert.deepEqual(failure(big), ['processed', undefined]);
    assert.equal(done.get(big)!.category, 'high_value');
    assert.equal(done.get(small)!.category, 'standard');
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM usage_failed WHERE event_id = ANY($1)`, [
      [bad, noQuantity, noAccount],
    ]);
    assert.equal(n, 3);
    const [row] = await db.query(`SELECT worker_id FROM usage_processed WHERE event_id = $1`, [big]);
    assert.match(row.worker_id, /:\d+$/);
  });

  it('a quantity written as a float (1.0, 2e0) is refused as 1.5 is, never billed as an integer; it is kept as written', async () => {
    const account = await wallet(1000);
    const ids = {
      oneDotZero: eventId('f'),
      exponent: eventId('f'),
      fraction: eventId('f'),
      integer: eventId('f'),
    };
    const res = await api.request('POST', '/v1/events', {
      raw: `{"events":[
        {"id":"${ids.oneDotZero}","type":"tokens","accountId":"${account}","properties":{"count":1.0}},
        {"id":"${ids.exponent}","type":"tokens","accountId":"${account}","properties":{"count":2e0}},
        {"id":"${ids.fraction}","type":"tokens","accountId":"${account}","properties":{"count":1.5}},
        {"id":"${ids.integer}","type":"tokens","accountId":"${account}","properties":{"count":1}}]}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.body.accepted, 4, res.text);
    const done = await processed(Object.values(ids));
    const outcome = (id: string) => [
      done.get(id)!.status,
      (done.get(id)!.failure as { code: string } | null)?.code,
    ];
    assert.deepEqual(outcome(ids.oneDotZero), ['failed', 'invalid_quantity']);
    assert.deepEqual(outcome(ids.exponent), ['failed', 'invalid_quantity']);
    assert.deepEqual(outcome(ids.fraction), ['failed', 'invalid_quantity']);
    assert.deepEqual(outcome(ids.integer), ['processed', undefined]);
    assert.deepEqual(await chargedFor(account), { n: 1, total: 3 });
    assert.deepEqual(await balance(account), { posted: 997, held: 0, available: 997 });
    assert.match((await api.get(`/v1/events/${ids.oneDotZero}`)).text, /"count":1\.0[,}]/);
  });

  it('an Idempotency-Key replays the first answer', async () => {
    const body = { id: eventId('k'), type: 'page_view' };
    const k = `k-${Date.now()}`;
    const a = await send(body, { 'idempotency-key': k });
    const b = await send(body, { 'idempotency-key': k });
    assert.deepEqual(a.body, { ids: [body.id], accepted: 1, duplicates: 0, rejected: [] });
    assert.deepEqual(b.body, a.body);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
  });

  it('GET /v1/usage validates its query', async () => {
    for (const q of [
      'groupBy=week',
      'from=yesterday',
      'from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
      'x=1',
    ]) {
      const res = await api.get(`/v1/usage?${q}`);
      assert.equal(res.status, 400, q);
    }
    assert.equal((await api.get('/v1/usage?accountId=acc_00000000000000000000000000')).status, 404);
    assert.equal((await api.get('/v1/events/nope')).status, 404);
  });
});
