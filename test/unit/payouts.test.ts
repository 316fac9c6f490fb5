import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import {
  CircuitBreaker,
  outcomeOf,
  parseProviderSignature,
  payoutRetryDelayMs,
  providerSignature,
  signatureMatches,
} from '#domain';
import { comparePayouts, type ProviderPayout } from '#payouts';
import type { PayoutRecord } from '#persistence';
import {
  startProviderSimulator,
  type ProviderSimulator,
} from '../../tools/provider-simulator/src/simulator.js';

describe('payout rules', () => {
  it('backs off exponentially with jitter, capped, and gives up after the last attempt', () => {
    const options = { baseMs: 100, maxMs: 1000, maxAttempts: 5 };
    assert.equal(
      payoutRetryDelayMs(1, options, () => 1),
      100,
    );
    assert.equal(
      payoutRetryDelayMs(2, options, () => 1),
      200,
    );
    assert.equal(
      payoutRetryDelayMs(3, options, () => 1),
      400,
    );
    assert.equal(
      payoutRetryDelayMs(4, options, () => 0),
      400,
    ); // 800 · 50 %
    assert.equal(
      payoutRetryDelayMs(5, options, () => 1),
      null,
    );
    assert.equal(
      payoutRetryDelayMs(4, { ...options, maxAttempts: 10, maxMs: 500 }, () => 1),
      500,
    );
  });

  it('maps the provider statuses to outcomes', () => {
    assert.equal(outcomeOf('paid'), 'succeeded');
    assert.equal(outcomeOf('returned'), 'failed');
    assert.equal(outcomeOf('failed'), 'failed');
    assert.equal(outcomeOf('pending'), null);
  });

  it('signs webhooks as HMAC-SHA256 over "timestamp.body" and checks them', () => {
    const body = '{"id":"pevt_1"}';
    const header = providerSignature('s3cret', 1_700_000_000, body);
    const mac = createHmac('sha256', 's3cret').update(`1700000000.${body}`).digest('hex');
    assert.equal(header, `t=1700000000,v1=${mac}`);
    assert.deepEqual(parseProviderSignature(header), { timestamp: 1_700_000_000, signatures: [mac] });
    assert.ok(signatureMatches('s3cret', header, body));
    assert.ok(!signatureMatches('other', header, body));
    assert.ok(!signatureMatches('s3cret', header, body + ' '));
    assert.ok(!signatureMatches('s3cret', header.replace('t=1700000000', 't=1700000001'), body));
    assert.equal(parseProviderSignature('v1=zz'), null);
  });
});

describe('comparePayouts (reconciliation)', () => {
  const tally = (id: string, status: PayoutRecord['status'], amount = 500n): PayoutRecord => ({
    transactionId: id,
    tenantId: 'ten_1',
    accountId: 'acc_1',
    holdId: 'hold_1',
    amount,
    currency: 'USD',
    status,
    attempts: 1,
    nextAttemptAt: new Date(0),
    providerPayoutId: `po_${id}`,
    outcomeDueAt: null,
    lastError: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    settledAt: null,
  });
  const there = (
    id: string,
    ref: string,
    status: ProviderPayout['status'],
    amount = '500',
  ): ProviderPayout => ({
    id,
    reference: ref,
    amount,
    currency: 'USD',
    status,
  });
  const kinds = (t: PayoutRecord[], r: ProviderPayout[]) =>
    comparePayouts(t, r).mismatches.map((m) => [m.transactionId, m.kind]);

  it('finds a second live payout for one withdrawal, but not the same payout reported twice', () => {
    assert.deepEqual(
      kinds([tally('a', 'succeeded')], [there('po_a', 'a', 'paid'), there('po_x', 'a', 'pending')]),
      [['a', 'paid_twice']],
    );
    assert.deepEqual(
      kinds([tally('a', 'succeeded')], [there('po_a', 'a', 'paid'), there('po_a', 'a', 'paid')]),
      [],
    );
    // A returned first attempt and a paid second one: paid once.
    assert.deepEqual(
      kinds([tally('a', 'succeeded')], [there('po_x', 'a', 'returned'), there('po_a', 'a', 'paid')]),
      [],
    );
  });

  it("finds an amount or currency that is not the withdrawal's, before anything is resolved by it", () => {
    const found = comparePayouts([tally('a', 'accepted')], [there('po_a', 'a', 'paid', '501')]);
    assert.deepEqual(
      found.mismatches.map((m) => m.kind),
      ['amount_differs'],
    );
    assert.deepEqual(found.resolvable, []);
    assert.deepEqual(
      kinds([tally('b', 'succeeded', 2n ** 62n)], [there('po_b', 'b', 'paid', (2n ** 62n).toString())]),
      [],
    );
  });
});

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, lets one trial through after the cool-down, closes on success', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 1000 });
    assert.ok(breaker.tryAcquire(0));
    breaker.failure(0);
    breaker.success(); // a success resets the count
    for (let i = 0; i < 2; i++) breaker.failure(10);
    assert.equal(breaker.state(10), 'closed');
    breaker.failure(20);
    assert.equal(breaker.state(20), 'open');
    assert.ok(!breaker.tryAcquire(500));
    assert.equal(breaker.state(1020), 'half-open');
    assert.ok(breaker.tryAcquire(1020));
    assert.ok(!breaker.tryAcquire(1021), 'one trial at a time');
    breaker.failure(1030);
    assert.equal(breaker.state(1030), 'open', 'a failed trial opens it again');
    assert.ok(breaker.tryAcquire(2030));
    breaker.success();
    assert.equal(breaker.state(2031), 'closed');
    assert.ok(breaker.tryAcquire(2031));
  });
});

describe('provider simulator', () => {
  let sim: ProviderSimulator;
  const post = (key: string, body: unknown) =>
    fetch(`${sim.url}/payouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, authorization: 'Bearer k' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    sim = await startProviderSimulator({ apiKey: 'k', behaviour: { webhooks: false, settleAfterMs: 50 } });
  });
  afterAll(() => sim.close());

  it('takes a payout once per idempotency key and reports it settled', async () => {
    const first = await post('key-1', { amount: '150', currency: 'USD', reference: 'txn_1' });
    assert.equal(first.status, 201);
    const payout = (await first.json()) as { id: string; status: string };
    assert.equal(payout.status, 'pending');
    const again = await post('key-1', { amount: '150', currency: 'USD', reference: 'txn_1' });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { id: string }).id, payout.id);
    assert.deepEqual(sim.stats().byKey['key-1'], { payouts: 1, calls: 2 });
    assert.equal((await post('key-1', { amount: '151', currency: 'USD', reference: 'txn_1' })).status, 409);
    for (;;) {
      const got = (await (
        await fetch(`${sim.url}/payouts/${payout.id}`, { headers: { authorization: 'Bearer k' } })
      ).json()) as { status: string };
      if (got.status !== 'pending') {
        assert.equal(got.status, 'paid');
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const report = (await (
      await fetch(`${sim.url}/payouts?since=1970-01-01T00:00:00Z`, { headers: { authorization: 'Bearer k' } })
    ).json()) as { data: { id: string }[] };
    assert.ok(report.data.some((p) => p.id === payout.id));
  });

  it('asks for its API key, refuses and fails per amount as told, and keeps a refusal per key', async () => {
    const noKey = await fetch(`${sim.url}/payouts/x`);
    assert.equal(noKey.status, 401);
    sim.setBehaviour({ byAmount: { '422': { refuseRate: 1 }, '503': { errorRate: 1 } } });
    assert.equal((await post('key-2', { amount: 422, currency: 'USD' })).status, 422);
    sim.setBehaviour({ byAmount: {} });
    assert.equal(
      (await post('key-2', { amount: 422, currency: 'USD' })).status,
      422,
      'the key keeps its answer',
    );
    sim.setBehaviour({ byAmount: { '503': { errorRate: 1 } } });
    assert.equal((await post('key-3', { amount: 503, currency: 'USD' })).status, 503);
    assert.deepEqual(sim.stats().byKey['key-3'], { payouts: 0, calls: 1 });
    const behaviour = await fetch(`${sim.url}/_sim/behaviour`, { method: 'PUT', body: '{"down":true}' });
    assert.equal(behaviour.status, 200);
    assert.equal((await post('key-4', { amount: 1, currency: 'USD' })).status, 503);
    sim.setBehaviour({ down: false, byAmount: {} });
  });

  it('a timeout takes the payout and never answers; the retry with the same key gets it', async () => {
    sim.setBehaviour({ byAmount: { '77': { timeoutRate: 1 } } });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 200);
    await assert.rejects(
      fetch(`${sim.url}/payouts`, {
        method: 'POST',
        signal: controller.signal,
        headers: { 'idempotency-key': 'key-5', authorization: 'Bearer k' },
        body: JSON.stringify({ amount: 77, currency: 'USD' }),
      }),
    );
    clearTimeout(timer);
    const retry = await post('key-5', { amount: 77, currency: 'USD' });
    assert.equal(retry.status, 200);
    assert.deepEqual(sim.stats().byKey['key-5'], { payouts: 1, calls: 2 });
  });
});
