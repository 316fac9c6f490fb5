import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, openDataSource, waitFinal, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const key = () => `h-${Math.random().toString(36).slice(2)}-${Date.now()}`;

describe('holds (docs/api.md, Holds)', () => {
  let stack: InProcessStack;
  let api: Api;
  let other: Api;
  let db: DataSource;

  const hold = (body: Record<string, unknown>, idempotencyKey = key()) =>
    api.post('/v1/holds', body, { 'idempotency-key': idempotencyKey });
  const capture = (id: string, body: Record<string, unknown> = {}, idempotencyKey = key()) =>
    api.post(`/v1/holds/${id}/capture`, body, { 'idempotency-key': idempotencyKey });
  const voidHold = (id: string, idempotencyKey = key()) =>
    api.request('POST', `/v1/holds/${id}/void`, { headers: { 'idempotency-key': idempotencyKey } });
  const balance = async (account: string) => (await api.get(`/v1/accounts/${account}`)).body.balance;
  const funded = async (amount: number, currency = 'USD') => {
    const account = await api.account({ currency });
    await api.deposit(account, amount, currency);
    return account;
  };

  beforeAll(async () => {
    // The expiry sweep runs often here so the expiry test is quick.
    stack = await InProcessStack.start('holds', ['gateway', 'transaction-worker'], {
      HOLD_SWEEP_INTERVAL_MS: '100',
    });
    api = new Api(stack.url('gateway'), (await newTenant('Holds')).apiKey);
    other = new Api(stack.url('gateway'), (await newTenant('Other')).apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack.stop();
  });

  it('creates a hold: 201 Hold, amount moves from available to held, hold.created in the outbox', async () => {
    const account = await funded(500);
    const res = await hold({ accountId: account, amount: 120, currency: 'USD', expiresInSeconds: 3600 });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('location'), `/v1/holds/${res.body.id}`);
    assert.match(res.body.id, /^hold_[0-9A-Z]{26}$/);
    assert.deepEqual(Object.keys(res.body).sort(), [
      'accountId',
      'amount',
      'createdAt',
      'currency',
      'expiresAt',
      'id',
      'status',
    ]);
    assert.equal(res.body.status, 'active');
    assert.equal(res.body.amount, 120);
    const ttl = Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt);
    assert.ok(Math.abs(ttl - 3600_000) < 2000, `expiresAt is ${ttl} ms after createdAt`);
    assert.deepEqual(await balance(account), { posted: 500, held: 120, available: 380 });
    assert.deepEqual((await api.get(`/v1/holds/${res.body.id}`)).body, res.body);
    const [row] = await db.query(
      `SELECT count(*)::int AS n FROM outbox WHERE routing_key = 'hold.created' AND payload->'data'->>'id' = $1`,
      [res.body.id],
    );
    assert.equal(row.n, 1);
  });

  it('defaults to a 7-day expiry', async () => {
    const account = await funded(10);
    const res = await hold({ accountId: account, amount: 10, currency: 'USD' });
    const ttl = Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt);
    assert.ok(Math.abs(ttl - 604_800_000) < 2000);
  });

  it('10 concurrent holds of 100 on an account with 500 ⇒ exactly 5 succeed, the rest 402', async () => {
    const account = await funded(500);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => hold({ accountId: account, amount: 100, currency: 'USD' })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 201, 201, 201, 201, 402, 402, 402, 402, 402]);
    for (const r of results.filter((r) => r.status === 402)) {
      assert.equal(r.body.code, 'insufficient_funds');
      assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
    }
    assert.deepEqual(await balance(account), { posted: 500, held: 500, available: 0 });
  });

  it('held funds cannot be withdrawn, transferred or charged', async () => {
    const account = await funded(500);
    const target = await api.account();
    assert.equal((await hold({ accountId: account, amount: 400, currency: 'USD' })).status, 201);
    const spend = [
      { type: 'withdrawal', sourceAccountId: account, amount: 101, currency: 'USD' },
      {
        type: 'transfer',
        sourceAccountId: account,
        destinationAccountId: target,
        amount: 101,
        currency: 'USD',
      },
      { type: 'charge', sourceAccountId: account, amount: 101, currency: 'USD' },
    ];
    for (const body of spend) {
      const t = await waitFinal(api, (await api.transact(body)).body.id);
      assert.equal(t.status, 'failed', `${body.type} of held funds`);
      assert.equal(t.failure.code, 'insufficient_funds');
    }
    const ok = await waitFinal(
      api,
      (await api.transact({ type: 'withdrawal', sourceAccountId: account, amount: 100, currency: 'USD' }))
        .body.id,
    );
    assert.equal(ok.status, 'succeeded');
    assert.deepEqual(await balance(account), { posted: 400, held: 400, available: 0 });
  });

  it('partial capture posts the captured amount and releases the rest; the hold is then spent', async () => {
    const account = await funded(1000);
    const h = (await hold({ accountId: account, amount: 300, currency: 'USD' })).body;
    const res = await capture(h.id, { amount: 120 });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.type, 'capture');
    assert.equal(res.body.amount, 120);
    assert.equal(res.body.sourceAccountId, account);
    assert.equal(res.headers.get('location'), `/v1/transactions/${res.body.id}`);
    const t = await waitFinal(api, res.body.id);
    assert.equal(t.status, 'succeeded');
    assert.deepEqual(await balance(account), { posted: 880, held: 0, available: 880 });
    assert.equal((await api.get(`/v1/holds/${h.id}`)).body.status, 'captured');
    const entries = (await api.get(`/v1/accounts/${account}/entries`)).body.data;
    assert.equal(entries[0].transactionId, t.id);
    assert.equal(entries[0].amount, -120);

    for (const again of [await capture(h.id), await voidHold(h.id)]) {
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'hold_not_active');
    }
  });

  it('a capture without an amount takes the whole hold; a capture pending in the worker blocks a second one', async () => {
    const account = await funded(1000);
    const h = (await hold({ accountId: account, amount: 250, currency: 'USD' })).body;
    const [first, second] = await Promise.all([capture(h.id), capture(h.id)]);
    const statuses = [first.status, second.status].sort();
    assert.deepEqual(statuses, [202, 409]);
    const accepted = first.status === 202 ? first : second;
    assert.equal(accepted.body.amount, 250);
    assert.equal((await waitFinal(api, accepted.body.id)).status, 'succeeded');
    assert.deepEqual(await balance(account), { posted: 750, held: 0, available: 750 });
  });

  it('a capture raises no low-balance alert (its hold is released as it posts); a withdrawal that crosses does', async () => {
    const account = await api.account({ currency: 'USD', lowBalanceThreshold: 500 });
    await api.deposit(account, 1000);
    const h = (await hold({ accountId: account, amount: 300, currency: 'USD' })).body;
    const captured = await waitFinal(api, (await capture(h.id)).body.id);
    assert.equal(captured.status, 'succeeded');
    // Available was 700 before the capture and is 700 after it: nothing crossed the threshold.
    assert.deepEqual(await balance(account), { posted: 700, held: 0, available: 700 });
    const alerts = async () =>
      (
        await db.query(
          `SELECT payload->'data' AS data FROM outbox
            WHERE routing_key = 'account.balance_low' AND payload->'data'->>'accountId' = $1`,
          [account],
        )
      ).map((r: { data: unknown }) => r.data);
    assert.deepEqual(await alerts(), []);
    const withdrawn = await api.transact({
      type: 'withdrawal',
      sourceAccountId: account,
      amount: 300,
      currency: 'USD',
    });
    assert.equal(withdrawn.body.status, 'succeeded');
    assert.deepEqual(await alerts(), [
      { accountId: account, currency: 'USD', available: 400, threshold: 500 },
    ]);
  });

  it('capturing more than held is refused and changes nothing', async () => {
    const account = await funded(1000);
    const h = (await hold({ accountId: account, amount: 100, currency: 'USD' })).body;
    const res = await capture(h.id, { amount: 101 });
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'capture_exceeds_hold');
    assert.equal((await api.get(`/v1/holds/${h.id}`)).body.status, 'active');
    assert.deepEqual(await balance(account), { posted: 1000, held: 100, available: 900 });
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM transactions WHERE hold_id = $1`, [h.id]);
    assert.equal(n, 0);
    assert.equal((await capture(h.id, { amount: 100 })).status, 202);
  });

  it('void releases at once; voiding twice ⇒ 409; the same key replays the first answer', async () => {
    const account = await funded(500);
    const h = (await hold({ accountId: account, amount: 200, currency: 'USD' })).body;
    const k = key();
    const first = await voidHold(h.id, k);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.status, 'voided');
    assert.deepEqual(await balance(account), { posted: 500, held: 0, available: 500 });
    const replay = await voidHold(h.id, k);
    assert.equal(replay.status, 200);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, first.body);
    const twice = await voidHold(h.id);
    assert.equal(twice.status, 409);
    assert.equal(twice.body.code, 'hold_not_active');
    assert.equal((await capture(h.id)).status, 409);
    assert.deepEqual(await balance(account), { posted: 500, held: 0, available: 500 });
  });

  it('the same Idempotency-Key creates one hold', async () => {
    const account = await funded(500);
    const k = key();
    const body = { accountId: account, amount: 50, currency: 'USD' };
    const [a, b] = [await hold(body, k), await hold(body, k)];
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    assert.equal(a.body.id, b.body.id);
    assert.deepEqual(await balance(account), { posted: 500, held: 50, available: 450 });
    assert.equal((await hold({ ...body, amount: 51 }, k)).status, 422);
  });

  it('refuses bad requests with 4xx problems and changes nothing', async () => {
    const account = await funded(500);
    const cases: [Record<string, unknown>, number, string][] = [
      [{ accountId: account, amount: 10, currency: 'USD', expiresInSeconds: 59 }, 400, 'validation_error'],
      [
        { accountId: account, amount: 10, currency: 'USD', expiresInSeconds: 2_592_001 },
        400,
        'validation_error',
      ],
      [{ accountId: account, amount: 10.5, currency: 'USD' }, 400, 'validation_error'],
      [{ accountId: account, amount: 0, currency: 'USD' }, 400, 'validation_error'],
      [{ accountId: account, amount: 10, currency: 'USD', extra: 1 }, 400, 'validation_error'],
      [{ accountId: account, amount: 10, currency: 'EUR' }, 422, 'currency_mismatch'],
      [
        { accountId: 'acc_00000000000000000000000000', amount: 10, currency: 'USD' },
        404,
        'account_not_found',
      ],
      [{ accountId: account, amount: 501, currency: 'USD' }, 402, 'insufficient_funds'],
    ];
    for (const [body, status, code] of cases) {
      const res = await hold(body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.code, code);
    }
    const noKey = await api.post('/v1/holds', { accountId: account, amount: 10, currency: 'USD' });
    assert.equal(noKey.status, 400);
    assert.equal(noKey.body.code, 'idempotency_key_required');
    assert.equal((await api.post('/v1/holds/hold_x/void')).body.code, 'idempotency_key_required');
    assert.equal((await capture('hold_00000000000000000000000000')).status, 404);
    assert.equal((await voidHold('nonsense')).body.code, 'hold_not_found');
    assert.equal((await api.get('/v1/holds/nonsense')).status, 404);
    assert.deepEqual(await balance(account), { posted: 500, held: 0, available: 500 });
  });

  it("another tenant's hold answers 404", async () => {
    const account = await funded(500);
    const h = (await hold({ accountId: account, amount: 10, currency: 'USD' })).body;
    assert.equal((await other.get(`/v1/holds/${h.id}`)).status, 404);
    const res = await other.post(`/v1/holds/${h.id}/capture`, {}, { 'idempotency-key': key() });
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'hold_not_found');
    const theirs = await other.post(
      '/v1/holds',
      { accountId: account, amount: 10, currency: 'USD' },
      { 'idempotency-key': key() },
    );
    assert.equal(theirs.status, 404);
  });

  it('a capture on a frozen account is refused; the hold stays active', async () => {
    const account = await funded(500);
    const h = (await hold({ accountId: account, amount: 10, currency: 'USD' })).body;
    await db.query(`UPDATE accounts SET status = 'frozen' WHERE id = $1`, [account]);
    const res = await capture(h.id);
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'account_frozen');
    assert.equal((await api.get(`/v1/holds/${h.id}`)).body.status, 'active');
    await db.query(`UPDATE accounts SET status = 'active' WHERE id = $1`, [account]);
  });

  it('expired holds are released exactly once with two workers sweeping; then they cannot be captured', async () => {
    await stack.startExtra('transaction-worker', { HOLD_SWEEP_INTERVAL_MS: '100' });
    const accounts = await Promise.all(Array.from({ length: 4 }, () => funded(1000)));
    const holds: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await hold({
        accountId: accounts[i % 4],
        amount: 10 + i,
        currency: 'USD',
        expiresInSeconds: 60,
      });
      assert.equal(res.status, 201);
      holds.push(res.body.id);
    }
    // Time travel: the holds' expiry is moved into the past (as the owner; the apps cannot).
    await db.query(`UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = ANY($1)`, [holds]);
    await waitFor('every hold to expire', async () => {
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM holds WHERE id = ANY($1) AND status = 'expired'`,
        [holds],
      );
      return n === holds.length;
    });
    for (const account of accounts)
      assert.deepEqual(await balance(account), { posted: 1000, held: 0, available: 1000 });
    const events: { id: string; n: number }[] = await db.query(
      `SELECT payload->'data'->>'id' AS id, count(*)::int AS n FROM outbox
        WHERE routing_key = 'hold.expired' AND payload->'data'->>'id' = ANY($1) GROUP BY 1`,
      [holds],
    );
    assert.equal(events.length, holds.length);
    assert.ok(events.every((e) => e.n === 1));
    const res = await capture(holds[0]);
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'hold_not_active');
    assert.equal((await api.get(`/v1/holds/${holds[0]}`)).body.status, 'expired');
  });

  it('a hold past its expiry cannot be captured even before the sweep reaches it', async () => {
    const account = await funded(100);
    const h = (await hold({ accountId: account, amount: 10, currency: 'USD' })).body;
    // Far enough past for the check; the sweep may or may not have released it yet: both are 409.
    await db.query(`UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = $1`, [h.id]);
    const res = await capture(h.id);
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'hold_not_active');
  });
});
