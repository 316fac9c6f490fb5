import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { providerSignature } from '#domain';
import {
  Api,
  openDataSource,
  send,
  sendProviderEvent,
  waitFinal,
  waitFor,
  type ProviderEventBody,
} from '#test-support';
import { InProcessStack, newTenant, verifiedLedger } from '../support/in-process.js';
import {
  startProviderSimulator,
  type ProviderSimulator,
} from '../../tools/provider-simulator/src/simulator.js';

/**
 * Withdrawals paid out through a payment provider (docs/architecture.md, "Payouts"): the provider
 * simulator as a real HTTP server, the gateway and worker in-process on the real database and
 * broker. Each payout's fate is picked by its amount (the simulator's `byAmount`).
 */
describe('payouts through a payment provider', () => {
  let sim: ProviderSimulator;
  let stack: InProcessStack;
  let api: Api;
  let db: DataSource;

  const AMOUNTS = {
    slow: 301, // settles late: `processing` is seen first
    refused: 422,
    returned: 402,
    timeout: 77, // taken, then no answer: retried with the same key
    down: 503, // 5xx every time: outcome unknown
    manual: 909, // the simulator does not settle it within a test: the test sends its events
    racing: 55, // settled at once, webhooks duplicated and shuffled, polled too
    inProgress: 409, // taken, no answer; the retries are told 409 "key in use" while it is pending
    credential: 401, // every call answered 401: a credential refused, not the payout
    refusedRetry: 522, // 503 first, then 422: a refusal after an attempt without an answer
  };
  const SECRET = 'test-provider-webhook-secret';

  const funded = async (amount: number) => {
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, amount);
    return account;
  };
  const withdraw = async (account: string, amount: number) => {
    const res = await api.transact(
      { type: 'withdrawal', sourceAccountId: account, amount, currency: 'USD' },
      0,
    );
    assert.equal(res.status, 202, res.text);
    return res.body.id as string;
  };
  const balance = async (account: string) => (await api.get(`/v1/accounts/${account}`)).body.balance;
  const payout = async (id: string) =>
    (
      (await db.query(`SELECT status, attempts FROM payouts WHERE transaction_id = $1`, [id])) as {
        status: string;
        attempts: number;
      }[]
    )[0];
  const entries = async (id: string) =>
    (
      (await db.query(`SELECT count(*)::int AS n FROM ledger_entries WHERE transaction_id = $1`, [id])) as {
        n: number;
      }[]
    )[0].n;

  beforeAll(async () => {
    sim = await startProviderSimulator({
      webhookSecret: SECRET,
      behaviour: {
        settleAfterMs: 50,
        byAmount: {
          [AMOUNTS.slow]: { settleAfterMs: 3000 },
          [AMOUNTS.refused]: { refuseRate: 1 },
          [AMOUNTS.returned]: { returnRate: 1 },
          [AMOUNTS.timeout]: { timeoutRate: 1, webhooks: false },
          [AMOUNTS.down]: { errorRate: 1 },
          [AMOUNTS.manual]: { settleAfterMs: 600_000 },
          [AMOUNTS.racing]: { settleAfterMs: 0, duplicateWebhooks: true, outOfOrderWebhooks: true },
          [AMOUNTS.inProgress]: {
            timeoutRate: 1,
            webhooks: false,
            settleAfterMs: 600_000,
            conflictWhileProcessing: true,
          },
          [AMOUNTS.credential]: { answerStatus: 401 },
          [AMOUNTS.refusedRetry]: { failFirstCalls: 1, refuseRate: 1 },
        },
      },
    });
    stack = await InProcessStack.start('payouts', ['gateway', 'transaction-worker'], {
      PAYOUT_PROVIDER_URL: sim.url,
      PAYOUT_PROVIDER_TIMEOUT_MS: '500',
      PAYOUT_RETRY_BASE_MS: '50',
      PAYOUT_RETRY_MAX_MS: '200',
      PAYOUT_MAX_ATTEMPTS: '3',
      PAYOUT_OUTCOME_AFTER_MS: '200',
      PAYOUT_DISPATCH_INTERVAL_MS: '50',
      PAYOUT_BREAKER_FAILURES: '1000',
      PAYOUT_PROVIDER_WEBHOOK_SECRET: SECRET,
    });
    sim.setWebhookUrl(`${stack.url('gateway')}/v1/provider-events`);
    api = new Api(stack.url('gateway'), (await newTenant('Payouts')).apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
    await sim?.close();
  });

  it('holds the funds at once, shows processing while the provider has it, then succeeds paid once', async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.slow);
    const seen = await waitFor('processing', async () => {
      const t = (await api.get(`/v1/transactions/${id}`)).body;
      return t.status === 'processing' ? t : null;
    });
    assert.equal(seen.completedAt, null);
    assert.equal(seen.failure, null);
    assert.deepEqual(await balance(account), {
      posted: 1000,
      held: AMOUNTS.slow,
      available: 1000 - AMOUNTS.slow,
    });
    assert.equal(await entries(id), 0);
    const done = await waitFinal(api, id);
    assert.equal(done.status, 'succeeded');
    assert.deepEqual(await balance(account), {
      posted: 1000 - AMOUNTS.slow,
      held: 0,
      available: 1000 - AMOUNTS.slow,
    });
    assert.equal(await entries(id), 2);
    assert.equal((await payout(id)).status, 'succeeded');
    assert.equal(sim.stats().byKey[id].payouts, 1);
  });

  it('a refusal (4xx) fails the withdrawal and releases the funds', async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.refused);
    const done = await waitFinal(api, id);
    assert.equal(done.status, 'failed');
    assert.equal(done.failure.code, 'payout_refused');
    assert.deepEqual(await balance(account), { posted: 1000, held: 0, available: 1000 });
    assert.equal(await entries(id), 0);
    assert.equal((await payout(id)).status, 'failed');
    assert.equal(sim.stats().byKey[id].payouts, 0);
    // The tenant sees the status code, never the provider's own words.
    assert.equal(done.failure.message, 'The payment provider refused the payout (HTTP 422).');
  });

  it('a returned payout fails the withdrawal and releases the funds', async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.returned);
    const done = await waitFinal(api, id);
    assert.equal(done.status, 'failed');
    assert.equal(done.failure.code, 'payout_returned');
    assert.deepEqual(await balance(account), { posted: 1000, held: 0, available: 1000 });
  });

  it('insufficient funds still fail at once, and the provider is never called', async () => {
    const account = await funded(100);
    const id = await withdraw(account, 500);
    const done = await waitFinal(api, id);
    assert.equal(done.status, 'failed');
    assert.equal(done.failure.code, 'insufficient_funds');
    assert.equal(await payout(id), undefined);
    assert.equal(sim.stats().byKey[id], undefined);
  });

  it('a payout whose answer timed out is retried with the same key and paid once', async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.timeout);
    const done = await waitFinal(api, id);
    assert.equal(done.status, 'succeeded');
    const stats = sim.stats().byKey[id];
    assert.ok(stats.calls >= 2, `called ${stats.calls} time(s)`);
    assert.equal(stats.payouts, 1, 'the simulator paid it once');
    assert.deepEqual(await balance(account), {
      posted: 1000 - AMOUNTS.timeout,
      held: 0,
      available: 1000 - AMOUNTS.timeout,
    });
  });

  it('after the last retry the outcome is unknown: still processing, the money still held', async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.down);
    const row = await waitFor('unknown', async () => {
      const p = await payout(id);
      return p?.status === 'unknown' ? p : null;
    });
    assert.equal(row.attempts, 3);
    assert.equal(sim.stats().byKey[id].calls, 3);
    assert.equal(sim.stats().byKey[id].payouts, 0);
    assert.equal((await api.get(`/v1/transactions/${id}`)).body.status, 'processing');
    assert.deepEqual(await balance(account), {
      posted: 1000,
      held: AMOUNTS.down,
      available: 1000 - AMOUNTS.down,
    });
  });

  /** Waits for the payout to become `unknown`; the withdrawal is then still processing, its money held. */
  const heldUnknown = async (account: string, id: string, amount: number) => {
    const row = await waitFor('unknown', async () => {
      const p = await payout(id);
      return p?.status === 'unknown' ? p : null;
    });
    assert.equal((await api.get(`/v1/transactions/${id}`)).body.status, 'processing');
    assert.deepEqual(await balance(account), { posted: 1000, held: amount, available: 1000 - amount });
    assert.equal(await entries(id), 0);
    return row;
  };

  it('a 409 "key in use" on a retry is not a refusal: the provider has the payout, so the money stays held', async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.inProgress);
    const row = await heldUnknown(account, id, AMOUNTS.inProgress);
    assert.equal(row.attempts, 3);
    // Releasing the funds here would let the customer withdraw again what the provider pays out.
    assert.deepEqual(sim.stats().byKey[id], { payouts: 1, calls: 3 });
  });

  it('a 401 (a credential refused) is not a refusal of the payout: retried, then unknown', async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.credential);
    const row = await heldUnknown(account, id, AMOUNTS.credential);
    assert.equal(row.attempts, 3);
    assert.deepEqual(sim.stats().byKey[id], { payouts: 0, calls: 3 });
  });

  it('a refusal after an attempt without an answer leaves the outcome unknown, not failed', async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.refusedRetry);
    const row = await heldUnknown(account, id, AMOUNTS.refusedRetry);
    assert.equal(row.attempts, 2);
    assert.deepEqual(sim.stats().byKey[id], { payouts: 0, calls: 2 });
  });

  /** The provider's webhook for `payoutId`, signed as the provider signs (or as told). */
  const providerEvent = (event: ProviderEventBody, sign: { secret?: string; at?: number } = {}) =>
    sendProviderEvent(stack.url('gateway'), sign.secret ?? SECRET, event, sign.at);
  const accepted = async (id: string) =>
    waitFor('accepted by the provider', async () => {
      const [row] = await db.query(
        `SELECT provider_payout_id FROM payouts WHERE transaction_id = $1 AND status = 'accepted'`,
        [id],
      );
      return row?.provider_payout_id as string | undefined;
    });
  const eventId = () => `pevt_test_${Math.random().toString(36).slice(2)}`;

  it("a signed webhook settles the withdrawal before the provider's own report says so", async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.manual);
    const payoutId = await accepted(id);
    const event = {
      id: eventId(),
      type: 'payout.paid',
      data: { id: payoutId, reference: id, status: 'paid' },
    };
    const res = await providerEvent(event);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { id: event.id, duplicate: false });
    const done = await waitFinal(api, id);
    assert.equal(done.status, 'succeeded');
    assert.equal(sim.payout(payoutId)!.status, 'pending', 'polling could not have seen it');
    assert.equal(await entries(id), 2);
    // The same event again: acknowledged, nothing done again.
    const again = await providerEvent(event);
    assert.deepEqual(again.body, { id: event.id, duplicate: true });
    // A later contradicting event cannot undo a final outcome.
    await providerEvent({
      id: eventId(),
      type: 'payout.returned',
      data: { ...event.data, status: 'returned' },
    });
    await waitFor('events applied', async () => {
      const [row] = await db.query(
        `SELECT count(*)::int AS n FROM provider_events WHERE reference = $1 AND applied_at IS NULL`,
        [id],
      );
      return row.n === 0;
    });
    assert.equal((await api.get(`/v1/transactions/${id}`)).body.status, 'succeeded');
    assert.equal(await entries(id), 2);
  });

  it('a returned event fails the withdrawal and releases the funds', async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.manual);
    const payoutId = await accepted(id);
    const res = await providerEvent({
      id: eventId(),
      type: 'payout.returned',
      data: { id: payoutId, reference: id, status: 'returned' },
    });
    assert.equal(res.status, 200, res.text);
    const done = await waitFinal(api, id);
    assert.equal(done.status, 'failed');
    assert.equal(done.failure.code, 'payout_returned');
    assert.deepEqual(await balance(account), { posted: 1000, held: 0, available: 1000 });
  });

  it('paid again under a second provider payout: recorded as paid_twice, not applied again', async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.manual);
    const payoutId = await accepted(id);
    await providerEvent({
      id: eventId(),
      type: 'payout.paid',
      data: { id: payoutId, reference: id, status: 'paid' },
    });
    assert.equal((await waitFinal(api, id)).status, 'succeeded');
    // The same payout's paid event again (another event id) is no mismatch; a second payout is.
    await providerEvent({
      id: eventId(),
      type: 'payout.paid',
      data: { id: payoutId, reference: id, status: 'paid' },
    });
    await providerEvent({
      id: eventId(),
      type: 'payout.paid',
      data: { id: `${payoutId}_again`, reference: id, status: 'paid' },
    });
    await waitFor('events applied', async () => {
      const [row] = await db.query(
        `SELECT count(*)::int AS n FROM provider_events WHERE reference = $1 AND applied_at IS NULL`,
        [id],
      );
      return row.n === 0;
    });
    const mismatches = await db.query(
      `SELECT kind, tally_status, provider_status, provider_payout_id FROM payout_mismatches WHERE transaction_id = $1`,
      [id],
    );
    assert.deepEqual(mismatches, [
      {
        kind: 'paid_twice',
        tally_status: 'succeeded',
        provider_status: 'paid',
        provider_payout_id: `${payoutId}_again`,
      },
    ]);
    assert.equal(await entries(id), 2);
    assert.deepEqual(await balance(account), {
      posted: 1000 - AMOUNTS.manual,
      held: 0,
      available: 1000 - AMOUNTS.manual,
    });
  });

  it('refuses unsigned, wrongly signed and stale events with 401 problem+json, recording nothing', async () => {
    const account = await funded(1000);
    const id = await withdraw(account, AMOUNTS.manual);
    const payoutId = await accepted(id);
    const event = () => ({
      id: eventId(),
      type: 'payout.paid',
      data: { id: payoutId, reference: id, status: 'paid' },
    });
    const refused = [
      await providerEvent(event(), { secret: 'not-the-shared-secret' }),
      await providerEvent(event(), { at: Math.floor(Date.now() / 1000) - 3600 }),
      await send(
        stack.url('gateway'),
        'POST',
        '/v1/provider-events',
        { 'content-type': 'application/json' },
        JSON.stringify(event()),
      ),
    ];
    for (const res of refused) {
      assert.equal(res.status, 401, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.body.code, 'unauthorized');
      assert.equal(res.body.status, 401);
    }
    // A body changed after signing.
    const body = JSON.stringify(event());
    const signature = providerSignature(SECRET, Math.floor(Date.now() / 1000), body);
    const tampered = await send(
      stack.url('gateway'),
      'POST',
      '/v1/provider-events',
      { 'content-type': 'application/json', 'provider-signature': signature },
      body.replace('"paid"', '"returned"'),
    );
    assert.equal(tampered.status, 401);
    // Signed but malformed: 400, nothing recorded.
    const malformed = await providerEvent({
      id: eventId(),
      type: 'payout.paid',
      data: { id: payoutId, reference: id, status: 'lost' },
    });
    assert.equal(malformed.status, 400, malformed.text);
    assert.equal(malformed.body.code, 'validation_error');
    const [row] = await db.query(`SELECT count(*)::int AS n FROM provider_events WHERE reference = $1`, [id]);
    assert.equal(row.n, 0);
    assert.equal((await api.get(`/v1/transactions/${id}`)).body.status, 'processing');
  });

  it('webhooks (duplicated, out of order) and polling racing: each payout settled exactly once', async () => {
    const account = await funded(10_000);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await withdraw(account, AMOUNTS.racing));
    for (const id of ids) assert.equal((await waitFinal(api, id)).status, 'succeeded');
    for (const id of ids) {
      assert.equal(await entries(id), 2, `${id} posted once`);
      const [row] = await db.query(
        `SELECT count(*)::int AS n FROM outbox WHERE routing_key = 'transaction.succeeded' AND payload->'data'->>'id' = $1`,
        [id],
      );
      assert.equal(row.n, 1, `${id} announced once`);
      assert.equal(sim.stats().byKey[id].payouts, 1);
    }
    assert.deepEqual(await balance(account), {
      posted: 10_000 - 12 * AMOUNTS.racing,
      held: 0,
      available: 10_000 - 12 * AMOUNTS.racing,
    });
    // Every payout's webhook reached the gateway (twice: recorded once), whichever path settled it.
    for (const id of ids) {
      await waitFor(`${id}'s webhook recorded and applied`, async () => {
        const [row] = await db.query(
          `SELECT count(*)::int AS n, count(applied_at)::int AS applied FROM provider_events WHERE reference = $1`,
          [id],
        );
        return row.n === 1 && row.applied === 1;
      });
    }
    await waitFor('the duplicates sent', () => sim.stats().webhooksSent >= 2 * ids.length);
  });

  it('counts attempts by what they came to and outcomes by the path that applied them (/metrics)', async () => {
    const text = await (await fetch(`${stack.url('transaction-worker')}/metrics`)).text();
    const value = (name: string, labels: Record<string, string>) =>
      text
        .split('\n')
        .filter(
          (l) =>
            l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
        )
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    // What the tests above did: each kind of answer, and outcomes by webhook and by the answer.
    for (const outcome of ['accepted', 'refused', 'retrying', 'unknown'])
      assert.ok(value('tally_payout_attempts_total', { outcome }) > 0, `attempts ${outcome}`);
    assert.ok(value('tally_payout_outcomes_total', { outcome: 'succeeded', path: 'webhook' }) > 0);
    assert.ok(value('tally_payout_outcomes_total', { outcome: 'failed', path: 'webhook' }) > 0);
    assert.ok(value('tally_payout_outcomes_total', { outcome: 'failed', path: 'answer' }) > 0, 'the refusal');
    assert.equal(value('tally_payout_breaker_state', {}), 0);
  });

  it('leaves the ledger consistent (held = active holds, captured holds = succeeded withdrawals)', async () => {
    const { ok, report } = await verifiedLedger();
    assert.ok(ok, report);
  });
});
