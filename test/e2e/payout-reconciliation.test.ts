import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import {
  Api,
  openDataSource,
  send,
  sendProviderEvent,
  signedInOperator,
  tallyCli,
  waitFinal,
  waitFor,
} from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';
import {
  startProviderSimulator,
  type ProviderSimulator,
} from '../../tools/provider-simulator/src/simulator.js';

/**
 * Reconciliation of Tally's payouts with the provider's report: the worker's periodic job applies
 * outcomes Tally was missing and records mismatches; `npm run tally -- payouts:reconcile` lists
 * them. Each payout's fate is set by its amount; contradicting outcomes are made by sending the
 * provider's signed event before the simulator settles the other way.
 */
describe('payout reconciliation', () => {
  const SECRET = 'test-provider-webhook-secret';
  const AMOUNTS = {
    lostAnswer: 71, // taken, answer lost, no retry left: unknown here, paid there
    neverTaken: 72, // 5xx, no retry left: unknown here, unknown to the provider
    paidThere: 73, // failed here by an event, then paid there
    returnedThere: 74, // succeeded here by an event, then returned there
    paidTwice: 75, // paid, and the provider has a second payout for the same withdrawal
    wrongAmount: 76, // the provider took it for one unit more
    returnedLater: 77, // paid, then the provider's event says it was returned
    paidAfterSettled: 78, // never taken (503), settled failed by an operator, then paid there
  };
  let sim: ProviderSimulator;
  let stack: InProcessStack;
  let api: Api;
  let db: DataSource;

  const withdrawFrom = async (account: string, amount: number) => {
    const res = await api.transact(
      { type: 'withdrawal', sourceAccountId: account, amount, currency: 'USD' },
      0,
    );
    assert.equal(res.status, 202, res.text);
    return res.body.id as string;
  };
  const payoutRow = async (id: string) =>
    (
      (await db.query(`SELECT status, provider_payout_id FROM payouts WHERE transaction_id = $1`, [id])) as {
        status: string;
        provider_payout_id: string | null;
      }[]
    )[0];
  const mismatch = async (id: string) =>
    (
      (await db.query(
        `SELECT kind, tally_status, provider_status FROM payout_mismatches WHERE transaction_id = $1 AND resolved_at IS NULL`,
        [id],
      )) as { kind: string; tally_status: string; provider_status: string | null }[]
    )[0];
  const providerEvent = (reference: string, payoutId: string, status: string) =>
    sendProviderEvent(stack.url('gateway'), SECRET, {
      id: `pevt_test_${Math.random().toString(36).slice(2)}`,
      type: `payout.${status}`,
      data: { id: payoutId, reference, status },
    });

  beforeAll(async () => {
    sim = await startProviderSimulator({
      behaviour: {
        webhooks: false,
        settleAfterMs: 50,
        byAmount: {
          [AMOUNTS.lostAnswer]: { timeoutRate: 1 },
          [AMOUNTS.neverTaken]: { errorRate: 1 },
          [AMOUNTS.paidThere]: { settleAfterMs: 3000 },
          [AMOUNTS.returnedThere]: { settleAfterMs: 3000, returnRate: 1 },
          [AMOUNTS.wrongAmount]: { amountDelta: 1 },
          [AMOUNTS.paidAfterSettled]: { failFirstCalls: 1 },
        },
      },
    });
    stack = await InProcessStack.start('payout-reconcile', ['gateway', 'transaction-worker', 'admin'], {
      PAYOUT_PROVIDER_URL: sim.url,
      PAYOUT_PROVIDER_TIMEOUT_MS: '300',
      PAYOUT_MAX_ATTEMPTS: '1',
      PAYOUT_OUTCOME_AFTER_MS: '600000', // no polling: outcomes come by reconciliation or events
      PAYOUT_DISPATCH_INTERVAL_MS: '50',
      PAYOUT_RECONCILE_INTERVAL_MS: '300',
      PAYOUT_BREAKER_FAILURES: '1000',
      PAYOUT_PROVIDER_WEBHOOK_SECRET: SECRET,
    });
    api = new Api(stack.url('gateway'), (await newTenant('Payout reconciliation')).apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
    await sim?.close();
  });

  it('applies an outcome Tally lost (unknown here, paid there): succeeded, paid once', async () => {
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 1000);
    const id = await withdrawFrom(account, AMOUNTS.lostAnswer);
    const done = await waitFinal(api, id);
    assert.equal(done.status, 'succeeded');
    assert.equal((await payoutRow(id)).status, 'succeeded');
    assert.deepEqual(sim.stats().byKey[id], { payouts: 1, calls: 1 });
    assert.equal(await mismatch(id), undefined);
  });

  it('records mismatches: unknown to the provider, paid there but failed here, failed there but succeeded here', async () => {
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 1000);
    const neverTaken = await withdrawFrom(account, AMOUNTS.neverTaken);
    const paidThere = await withdrawFrom(account, AMOUNTS.paidThere);
    const returnedThere = await withdrawFrom(account, AMOUNTS.returnedThere);
    const accepted = async (id: string) =>
      waitFor(`${id} accepted`, async () => {
        const row = await payoutRow(id);
        return row?.status === 'accepted' ? row.provider_payout_id : null;
      });
    // Before the simulator settles them (3 s), the provider's events say otherwise.
    assert.equal((await providerEvent(paidThere, await accepted(paidThere), 'returned')).status, 200);
    assert.equal((await providerEvent(returnedThere, await accepted(returnedThere), 'paid')).status, 200);
    assert.equal((await waitFinal(api, paidThere)).status, 'failed');
    assert.equal((await waitFinal(api, returnedThere)).status, 'succeeded');

    const found = await waitFor('the three mismatches', async () => {
      const rows = [await mismatch(neverTaken), await mismatch(paidThere), await mismatch(returnedThere)];
      return rows.every(Boolean) ? rows : null;
    });
    assert.deepEqual(found, [
      { kind: 'unknown_to_provider', tally_status: 'unknown', provider_status: null },
      { kind: 'paid_but_failed', tally_status: 'failed', provider_status: 'paid' },
      { kind: 'failed_but_succeeded', tally_status: 'succeeded', provider_status: 'returned' },
    ]);
    // An unknown outcome the provider never had stays held until an operator decides.
    assert.equal((await api.get(`/v1/transactions/${neverTaken}`)).body.status, 'processing');

    const cli = await tallyCli(
      ['payouts:reconcile', '--since=' + new Date(Date.now() - 3_600_000).toISOString()],
      {
        PAYOUT_PROVIDER_URL: sim.url,
      },
    );
    assert.equal(cli.code, 1, cli.stderr);
    const lines = cli.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const listed = new Map(lines.filter((l) => l.transactionId).map((l) => [l.transactionId, l.kind]));
    assert.equal(listed.get(neverTaken), 'unknown_to_provider');
    assert.equal(listed.get(paidThere), 'paid_but_failed');
    assert.equal(listed.get(returnedThere), 'failed_but_succeeded');
    const summary = lines.at(-1)!;
    assert.ok((summary.mismatches as number) >= 3);
    assert.ok((summary.compared as number) >= 3);

    const bad = await tallyCli(['payouts:reconcile', '--since=yesterday-ish'], {
      PAYOUT_PROVIDER_URL: sim.url,
    });
    assert.equal(bad.code, 2);
    assert.equal((await tallyCli(['payouts:reconcile'])).code, 2, 'without a provider URL');
  });

  it('records a withdrawal the provider paid twice, and one it paid for another amount', async () => {
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 1000);
    const paidTwice = await withdrawFrom(account, AMOUNTS.paidTwice);
    const wrongAmount = await withdrawFrom(account, AMOUNTS.wrongAmount);
    assert.equal((await waitFinal(api, paidTwice)).status, 'succeeded');
    // A second payout at the provider for the same withdrawal, under another key: what a provider
    // that lost an idempotency key (or a second integration) does.
    const second = await fetch(`${sim.url}/payouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `other-${paidTwice}` },
      body: JSON.stringify({ amount: String(AMOUNTS.paidTwice), currency: 'USD', reference: paidTwice }),
    });
    assert.equal(second.status, 201);
    const secondId = ((await second.json()) as { id: string }).id;
    const found = await waitFor('both mismatches', async () => {
      const rows = [await mismatch(paidTwice), await mismatch(wrongAmount)];
      return rows.every(Boolean) ? rows : null;
    });
    // The mismatch names the extra payout (pending or paid by now, as the simulator goes).
    assert.equal(found[0]!.kind, 'paid_twice');
    assert.equal(found[0]!.tally_status, 'succeeded');
    const [named] = await db.query(
      `SELECT provider_payout_id FROM payout_mismatches WHERE transaction_id = $1`,
      [paidTwice],
    );
    assert.equal(named.provider_payout_id, secondId);
    assert.notEqual(secondId, (await payoutRow(paidTwice)).provider_payout_id);
    assert.equal(found[1]!.kind, 'amount_differs');
    // Neither is settled by the job: the withdrawal paid twice stays succeeded, the other is
    // left for an operator whatever the provider says its status is.
    assert.equal((await api.get(`/v1/transactions/${paidTwice}`)).body.status, 'succeeded');
  });

  it('an event that contradicts a final payout (returned after paid) is recorded, not dropped', async () => {
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 1000);
    const id = await withdrawFrom(account, AMOUNTS.returnedLater);
    assert.equal((await waitFinal(api, id)).status, 'succeeded');
    const { provider_payout_id: payoutId } = await payoutRow(id);
    assert.equal((await providerEvent(id, payoutId!, 'returned')).status, 200);
    const found = await waitFor('the mismatch', () => mismatch(id));
    assert.deepEqual(found, {
      kind: 'failed_but_succeeded',
      tally_status: 'succeeded',
      provider_status: 'returned',
    });
    // Final is final: the ledger is untouched, an operator decides (credit back, then settle).
    assert.equal((await api.get(`/v1/transactions/${id}`)).body.status, 'succeeded');
    assert.deepEqual((await api.get(`/v1/accounts/${account}`)).body.balance, {
      posted: 1000 - AMOUNTS.returnedLater,
      held: 0,
      available: 1000 - AMOUNTS.returnedLater,
    });
  });

  it('operators list the mismatches and settle each, audited; a viewer cannot', async () => {
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 1000);
    const neverTaken = await withdrawFrom(account, AMOUNTS.neverTaken);
    await waitFor('the mismatch', () => mismatch(neverTaken));
    const operator = await signedInOperator(stack.url('admin'), 'operator');
    const viewer = await signedInOperator(stack.url('admin'), 'viewer');
    const admin = (token: string, method: string, path: string, body?: unknown) =>
      send(
        stack.url('admin'),
        method,
        path,
        { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body === undefined ? undefined : JSON.stringify(body),
      );

    const listed = await admin(viewer, 'GET', '/admin/api/payout-mismatches');
    assert.equal(listed.status, 200, listed.text);
    const row = listed.body.data.find((m: { transactionId: string }) => m.transactionId === neverTaken);
    assert.equal(row.kind, 'unknown_to_provider');
    assert.equal(row.tallyStatus, 'unknown');

    const path = `/admin/api/payout-mismatches/${neverTaken}/settle`;
    const refused = await admin(viewer, 'POST', path, { outcome: 'failed', reason: 'never paid out' });
    assert.equal(refused.status, 403, refused.text);
    const noOutcome = await admin(operator, 'POST', path, { reason: 'never paid out' });
    assert.equal(noOutcome.status, 409, noOutcome.text);
    assert.equal(noOutcome.body.code, 'payout_outcome_required');
    const bad = await admin(operator, 'POST', path, { outcome: 'maybe', reason: 'never paid out' });
    assert.equal(bad.status, 400, bad.text);
    assert.equal((await api.get(`/v1/transactions/${neverTaken}`)).body.status, 'processing');

    const settled = await admin(operator, 'POST', path, { outcome: 'failed', reason: 'never paid out' });
    assert.equal(settled.status, 200, settled.text);
    assert.deepEqual(settled.body, { transactionId: neverTaken, status: 'settled', resolution: 'failed' });
    const done = await waitFinal(api, neverTaken);
    assert.equal(done.status, 'failed');
    assert.deepEqual((await api.get(`/v1/accounts/${account}`)).body.balance, {
      posted: 1000,
      held: 0,
      available: 1000,
    });
    assert.equal(await mismatch(neverTaken), undefined);
    const again = await admin(operator, 'POST', path, { outcome: 'failed', reason: 'again' });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.code, 'payout_mismatch_resolved');
    const audit = await admin(operator, 'GET', `/admin/api/audit?targetId=${neverTaken}`);
    assert.deepEqual(
      audit.body.data.map((a: { action: string; reason: string }) => [a.action, a.reason]),
      [['payout.settle', 'never paid out']],
    );
  });

  it('a resolved mismatch reopens when something else is found: paid there after settled failed here', async () => {
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 1000);
    const id = await withdrawFrom(account, AMOUNTS.paidAfterSettled);
    assert.equal((await waitFor('the mismatch', () => mismatch(id))).kind, 'unknown_to_provider');
    const operator = await signedInOperator(stack.url('admin'), 'operator');
    const settled = await send(
      stack.url('admin'),
      'POST',
      `/admin/api/payout-mismatches/${id}/settle`,
      { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
      JSON.stringify({ outcome: 'failed', reason: 'the provider never had it' }),
    );
    assert.equal(settled.status, 200, settled.text);
    assert.equal((await waitFinal(api, id)).status, 'failed');
    assert.equal(await mismatch(id), undefined);
    // Then the provider pays it after all (a second integration, a manual payout): the money left
    // twice, once to the customer's bank and once back to the wallet. It must be seen again.
    const pay = () =>
      fetch(`${sim.url}/payouts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `late-${id}` },
        body: JSON.stringify({ amount: String(AMOUNTS.paidAfterSettled), currency: 'USD', reference: id }),
      });
    assert.equal((await pay()).status, 503); // the simulator's first call for the key
    assert.equal((await pay()).status, 201);
    const reopened = await waitFor('the mismatch reopened', async () => {
      const row = await mismatch(id);
      return row?.kind === 'paid_but_failed' ? row : null;
    });
    assert.deepEqual(reopened, { kind: 'paid_but_failed', tally_status: 'failed', provider_status: 'paid' });
  });
});
