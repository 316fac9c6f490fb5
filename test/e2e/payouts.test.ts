import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, openDataSource, waitFinal, waitFor } from '#test-support';
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
  };

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
      behaviour: {
        webhooks: false, // outcomes by polling here; the webhook path has its own tests
        settleAfterMs: 50,
        byAmount: {
          [AMOUNTS.slow]: { settleAfterMs: 3000 },
          [AMOUNTS.refused]: { refuseRate: 1 },
          [AMOUNTS.returned]: { returnRate: 1 },
          [AMOUNTS.timeout]: { timeoutRate: 1 },
          [AMOUNTS.down]: { errorRate: 1 },
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
    });
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

  it('leaves the ledger consistent (held = active holds, captured holds = succeeded withdrawals)', async () => {
    const { ok, report } = await verifiedLedger();
    assert.ok(ok, report);
  });
});
