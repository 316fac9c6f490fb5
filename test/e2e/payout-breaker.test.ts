import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, openDataSource, send, signedInOperator, waitFinal, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';
import {
  startProviderSimulator,
  type ProviderSimulator,
} from '../../tools/provider-simulator/src/simulator.js';

/**
 * The payment provider's circuit breaker: opened by consecutive failures, shown in the worker's
 * /health/ready (degraded, still ready), metrics and the admin API (from the row the worker
 * writes on each transition); withdrawals are still taken and queued, and
 * drained, each paid once, when the provider is back.
 */
describe('payout circuit breaker', () => {
  let sim: ProviderSimulator;
  let stack: InProcessStack;
  let api: Api;
  let db: DataSource;
  let viewer: string;

  /** The simulator's breaker as the admin reports it. */
  const adminBreaker = async () => {
    const res = await send(stack.url('admin'), 'GET', '/admin/api/payout-breakers', {
      authorization: `Bearer ${viewer}`,
    });
    assert.equal(res.status, 200, res.text);
    return (res.body.data as { provider: string; state: string; [k: string]: unknown }[]).find(
      (b) => b.provider === new URL(sim.url).host,
    );
  };
  const ready = async () => {
    const res = await fetch(`${stack.url('transaction-worker')}/health/ready`);
    return {
      code: res.status,
      body: (await res.json()) as { status: string; details: Record<string, { status: string }> },
    };
  };
  const breakerGauge = async () => {
    const text = await (await fetch(`${stack.url('transaction-worker')}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('tally_payout_breaker_state{'));
    return line ? Number(line.split(' ').pop()) : null;
  };

  beforeAll(async () => {
    sim = await startProviderSimulator({ behaviour: { webhooks: false, settleAfterMs: 20, down: true } });
    stack = await InProcessStack.start('payout-breaker', ['gateway', 'transaction-worker', 'admin'], {
      PAYOUT_PROVIDER_URL: sim.url,
      PAYOUT_PROVIDER_TIMEOUT_MS: '500',
      PAYOUT_RETRY_BASE_MS: '50',
      PAYOUT_RETRY_MAX_MS: '200',
      PAYOUT_MAX_ATTEMPTS: '50',
      PAYOUT_OUTCOME_AFTER_MS: '100',
      PAYOUT_DISPATCH_INTERVAL_MS: '50',
      PAYOUT_BREAKER_FAILURES: '3',
      PAYOUT_BREAKER_COOLDOWN_MS: '1000',
    });
    api = new Api(stack.url('gateway'), (await newTenant('Payout breaker')).apiKey);
    db = await openDataSource(2);
    viewer = await signedInOperator(stack.url('admin'), 'viewer');
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
    await sim?.close();
  });

  it('opens while the provider is down, keeps taking withdrawals, and drains them once it is back', async () => {
    const closed = await ready();
    assert.equal(closed.body.details.payoutProvider.status, 'up');
    assert.equal(await breakerGauge(), 0);
    const started = await waitFor('the started worker to report its breaker', adminBreaker);
    assert.equal(started.state, 'closed');

    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 10_000);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await api.transact(
        { type: 'withdrawal', sourceAccountId: account, amount: 100, currency: 'USD' },
        0,
      );
      assert.equal(res.status, 202, res.text);
      ids.push(res.body.id);
    }
    const open = await waitFor('the breaker to open', async () => {
      const r = await ready();
      return r.body.details.payoutProvider.status === 'degraded' ? r : null;
    });
    assert.equal(open.code, 200, 'still ready');
    assert.notEqual(await breakerGauge(), 0);
    // The admin reports it too, with what made it open (the cool-down is 1 s: open or half-open).
    const reported = await waitFor('the admin to report the breaker open', async () => {
      const b = await adminBreaker();
      return b && b.state !== 'closed' ? b : undefined;
    });
    assert.ok(['open', 'half-open'].includes(reported.state), reported.state);
    assert.ok(Number(reported.consecutiveFailures) >= 3, JSON.stringify(reported));
    assert.ok(reported.lastError, JSON.stringify(reported));
    assert.ok(Date.parse(String(reported.since)) > Date.parse(String(started.since)));
    // Taken and held meanwhile: nothing lost, nothing failed.
    for (const id of ids) assert.equal((await api.get(`/v1/transactions/${id}`)).body.status, 'processing');
    const [{ n: queued }] = await db.query(
      `SELECT count(*)::int AS n FROM payouts WHERE transaction_id = ANY($1) AND status = 'queued'`,
      [ids],
    );
    assert.equal(queued, ids.length);
    assert.equal((await api.get(`/v1/accounts/${account}`)).body.balance.held, 600);

    sim.setBehaviour({ down: false });
    for (const id of ids) assert.equal((await waitFinal(api, id)).status, 'succeeded');
    for (const id of ids) assert.equal(sim.stats().byKey[id].payouts, 1, `${id} paid once`);
    assert.deepEqual((await api.get(`/v1/accounts/${account}`)).body.balance, {
      posted: 9_400,
      held: 0,
      available: 9_400,
    });
    await waitFor(
      'the breaker to close',
      async () => (await ready()).body.details.payoutProvider.status === 'up',
    );
    assert.equal(await breakerGauge(), 0);
    const recovered = await waitFor('the admin to report it closed', async () => {
      const b = await adminBreaker();
      return b?.state === 'closed' ? b : undefined;
    });
    assert.equal(recovered.consecutiveFailures, 0);
    assert.equal(recovered.retryAt, null);
  });

  it('the provider answering 5xx to a random third of calls: every withdrawal succeeds, each paid once', async () => {
    sim.setBehaviour({ down: false, errorRate: 0.33 });
    try {
      const account = await api.account({ currency: 'USD' });
      await api.deposit(account, 10_000);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await api.transact(
          { type: 'withdrawal', sourceAccountId: account, amount: 10, currency: 'USD' },
          0,
        );
        assert.equal(res.status, 202, res.text);
        ids.push(res.body.id);
      }
      for (const id of ids) assert.equal((await waitFinal(api, id, 60_000)).status, 'succeeded');
      for (const id of ids) assert.equal(sim.stats().byKey[id].payouts, 1, `${id} paid once`);
      assert.deepEqual((await api.get(`/v1/accounts/${account}`)).body.balance, {
        posted: 9_800,
        held: 0,
        available: 9_800,
      });
    } finally {
      sim.setBehaviour({ errorRate: 0 });
    }
  });
});
