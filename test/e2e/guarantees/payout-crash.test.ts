import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, Stack, createTenant, openDataSource, waitFinal } from '#test-support';
import {
  startProviderSimulator,
  type ProviderSimulator,
} from '../../../tools/provider-simulator/src/simulator.js';

/**
 * The worker killed (SIGKILL, from dist/) after the provider took a payout and before the worker
 * recorded the answer: the payout's lease runs out, a worker sends it again under the same
 * idempotency key, and the provider pays it once; Tally records it once.
 */
describe('payouts survive a worker killed mid-call', () => {
  let sim: ProviderSimulator;
  let stack: Stack;
  let api: Api;
  let db: DataSource;

  beforeAll(async () => {
    sim = await startProviderSimulator({ behaviour: { webhooks: false, settleAfterMs: 50 } });
    stack = await Stack.start('payout-crash', ['gateway'], {
      PAYOUT_PROVIDER_URL: sim.url,
      PAYOUT_PROVIDER_TIMEOUT_MS: '500',
      PAYOUT_LEASE_MS: '1500',
      PAYOUT_OUTCOME_AFTER_MS: '200',
      PAYOUT_DISPATCH_INTERVAL_MS: '50',
    });
    api = new Api(stack.url('gateway'), (await createTenant('Payout crash')).apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
    await sim?.close();
  });

  it('the provider took it, the worker died before recording it: paid once, recorded once', async () => {
    await stack.startApp('transaction-worker', { TALLY_FAULTS: 'payout.after-provider-call' });
    const worker = stack.process('transaction-worker');
    const account = await api.account();
    await api.deposit(account, 1000);
    const res = await api.transact(
      { type: 'withdrawal', sourceAccountId: account, amount: 250, currency: 'USD' },
      0,
    );
    assert.equal(res.status, 202, res.text);
    const id = res.body.id as string;
    const died = await worker.exited;
    assert.equal(died.signal, 'SIGKILL');
    assert.deepEqual(sim.stats().byKey[id], { payouts: 1, calls: 1 }, 'the provider took it');
    const [row] = await db.query(`SELECT status, attempts FROM payouts WHERE transaction_id = $1`, [id]);
    assert.deepEqual(row, { status: 'queued', attempts: 1 }, 'its answer was never recorded');
    assert.equal((await api.get(`/v1/transactions/${id}`)).body.status, 'processing');

    await stack.startApp('transaction-worker');
    const done = await waitFinal(api, id);
    assert.equal(done.status, 'succeeded');
    assert.deepEqual(sim.stats().byKey[id], { payouts: 1, calls: 2 }, 'sent again, paid once');
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM ledger_entries WHERE transaction_id = $1`,
      [id],
    );
    assert.equal(n, 2, 'recorded once');
    assert.deepEqual((await api.get(`/v1/accounts/${account}`)).body.balance, {
      posted: 750,
      held: 0,
      available: 750,
    });
  });
});
