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
 * Settling payout mismatches under the four-eyes rule: up to ADMIN_PAYOUT_SETTLE_APPROVAL_THRESHOLD
 * an operator settles at once; above it the settlement waits, the operator who asked cannot approve
 * it, a second one can, and it is carried out once however many approve at the same time. The
 * mismatches are real: payouts the provider never took (5xx, no retry left), found by reconciliation.
 */
describe('payout mismatch settlement: four eyes above the threshold', () => {
  const THRESHOLD = 100;
  const SMALL = 81; // at or under the threshold
  const LARGE = 250; // above it
  let sim: ProviderSimulator;
  let stack: InProcessStack;
  let api: Api;
  let db: DataSource;
  let account: string;
  let first: string;
  let second: string;
  let viewer: string;

  const admin = (token: string, method: string, path: string, body?: unknown) =>
    send(
      stack.url('admin'),
      method,
      path,
      { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body === undefined ? undefined : JSON.stringify(body),
    );
  /** A withdrawal the provider never took, once reconciliation has listed it as a mismatch. */
  const mismatchOf = async (amount: number) => {
    const res = await api.transact(
      { type: 'withdrawal', sourceAccountId: account, amount, currency: 'USD' },
      0,
    );
    assert.equal(res.status, 202, res.text);
    const id = res.body.id as string;
    await waitFor(`the mismatch of ${id}`, async () => {
      const [row] = await db.query(
        `SELECT 1 FROM payout_mismatches WHERE transaction_id = $1 AND resolved_at IS NULL`,
        [id],
      );
      return row;
    });
    return id;
  };
  const listed = async (id: string) => {
    // Newest first: a mismatch made by this test is on the first pages; follow them to find it.
    let before: string | null = null;
    for (;;) {
      const path: string = `/admin/api/payout-mismatches?limit=50${before ? `&before=${before}` : ''}`;
      const page = await admin(viewer, 'GET', path);
      assert.equal(page.status, 200, page.text);
      const row = (page.body.data as { transactionId: string }[]).find((m) => m.transactionId === id);
      if (row || !page.body.nextBefore) return row as Record<string, unknown> | undefined;
      before = page.body.nextBefore;
    }
  };
  const auditOf = async (id: string) =>
    (await admin(first, 'GET', `/admin/api/audit?targetId=${id}`)).body.data
      .map((a: { action: string; operatorId: string }) => [a.action, a.operatorId])
      .reverse();
  const operatorId = async (token: string) => (await admin(token, 'GET', '/admin/api/me')).body.id as string;

  beforeAll(async () => {
    sim = await startProviderSimulator({
      behaviour: {
        webhooks: false,
        settleAfterMs: 50,
        byAmount: { [SMALL]: { errorRate: 1 }, [LARGE]: { errorRate: 1 } },
      },
    });
    stack = await InProcessStack.start('payout-settle', ['gateway', 'transaction-worker', 'admin'], {
      PAYOUT_PROVIDER_URL: sim.url,
      PAYOUT_PROVIDER_TIMEOUT_MS: '300',
      PAYOUT_MAX_ATTEMPTS: '1',
      PAYOUT_OUTCOME_AFTER_MS: '600000',
      PAYOUT_DISPATCH_INTERVAL_MS: '50',
      PAYOUT_RECONCILE_INTERVAL_MS: '300',
      PAYOUT_BREAKER_FAILURES: '1000',
      ADMIN_PAYOUT_SETTLE_APPROVAL_THRESHOLD: String(THRESHOLD),
    });
    api = new Api(stack.url('gateway'), (await newTenant('Payout settlement')).apiKey);
    db = await openDataSource(2);
    account = await api.account({ currency: 'USD' });
    await api.deposit(account, 10_000);
    [first, second, viewer] = await Promise.all([
      signedInOperator(stack.url('admin'), 'operator'),
      signedInOperator(stack.url('admin'), 'operator'),
      signedInOperator(stack.url('admin'), 'viewer'),
    ]);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
    await sim?.close();
  });

  it('at or under the threshold: settled at once, as before', async () => {
    const id = await mismatchOf(SMALL);
    const row = await listed(id);
    assert.equal(row?.amount, String(SMALL));
    assert.equal(row?.currency, 'USD');
    assert.equal(row?.pendingApproval, null);
    const settled = await admin(first, 'POST', `/admin/api/payout-mismatches/${id}/settle`, {
      outcome: 'failed',
      reason: 'never reached the provider',
    });
    assert.equal(settled.status, 200, settled.text);
    assert.deepEqual(settled.body, { transactionId: id, status: 'settled', resolution: 'failed' });
    assert.equal((await waitFinal(api, id)).status, 'failed');
    assert.equal(await listed(id), undefined);
    assert.deepEqual(await auditOf(id), [['payout.settle', await operatorId(first)]]);
  });

  it('above it: pending, refused to the same operator, approved by a second one and settled once, audited', async () => {
    const id = await mismatchOf(LARGE);
    const path = `/admin/api/payout-mismatches/${id}`;
    const asked = await admin(first, 'POST', `${path}/settle`, {
      outcome: 'succeeded',
      reason: 'bank says paid',
    });
    assert.equal(asked.status, 200, asked.text);
    assert.deepEqual(asked.body, { transactionId: id, status: 'pending_approval', resolution: null });
    // Nothing moved yet; the list shows who asked for what.
    assert.equal((await api.get(`/v1/transactions/${id}`)).body.status, 'processing');
    const pending = (await listed(id))?.pendingApproval as Record<string, unknown>;
    assert.equal(pending.requestedBy, await operatorId(first));
    assert.equal(pending.outcome, 'succeeded');
    assert.equal(pending.reason, 'bank says paid');
    // A second request while one waits is refused, whoever sends it.
    const again = await admin(second, 'POST', `${path}/settle`, { outcome: 'failed', reason: 'other idea' });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.code, 'payout_settlement_pending');

    const self = await admin(first, 'POST', `${path}/approve`);
    assert.equal(self.status, 403, self.text);
    assert.equal(self.body.code, 'second_approval_required');
    assert.match(self.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal((await admin(viewer, 'POST', `${path}/approve`)).status, 403);
    assert.equal((await api.get(`/v1/transactions/${id}`)).body.status, 'processing');

    const approved = await admin(second, 'POST', `${path}/approve`);
    assert.equal(approved.status, 200, approved.text);
    assert.deepEqual(approved.body, { transactionId: id, status: 'settled', resolution: 'succeeded' });
    assert.equal((await waitFinal(api, id)).status, 'succeeded');
    assert.equal(await listed(id), undefined);

    const late = await admin(second, 'POST', `${path}/approve`);
    assert.equal(late.status, 409, late.text);
    assert.equal(late.body.code, 'payout_mismatch_resolved');
    assert.equal(
      (await admin(first, 'POST', `${path}/settle`, { outcome: 'failed', reason: 'x3x' })).status,
      409,
    );
    assert.deepEqual(await auditOf(id), [
      ['payout.settle_request', await operatorId(first)],
      ['payout.settle_approve', await operatorId(second)],
    ]);
    const [entries] = await db.query(
      `SELECT count(*)::int AS n FROM ledger_entries WHERE transaction_id = $1`,
      [id],
    );
    assert.ok(entries.n > 0, 'the withdrawal posted');
  });

  it('two approvals at once: carried out once, the other answered 409', async () => {
    const id = await mismatchOf(LARGE);
    const path = `/admin/api/payout-mismatches/${id}`;
    assert.equal(
      (await admin(first, 'POST', `${path}/settle`, { outcome: 'failed', reason: 'never paid' })).status,
      200,
    );
    const third = await signedInOperator(stack.url('admin'), 'operator');
    const answers = await Promise.all([
      admin(second, 'POST', `${path}/approve`),
      admin(third, 'POST', `${path}/approve`),
    ]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409], answers.map((a) => a.text).join(' '));
    assert.equal(answers.find((a) => a.status === 409)!.body.code, 'payout_mismatch_resolved');
    assert.equal((await waitFinal(api, id)).status, 'failed');
    const actions = (await auditOf(id)).map(([action]: string[]) => action);
    assert.deepEqual(actions, ['payout.settle_request', 'payout.settle_approve']);
    const [payout] = await db.query(
      `SELECT p.status, m.resolution FROM payouts p JOIN payout_mismatches m USING (transaction_id)
        WHERE transaction_id = $1`,
      [id],
    );
    assert.deepEqual(payout, { status: 'failed', resolution: 'failed' });
  });

  it('a pending settlement rejected: the mismatch stays open and can be asked for again', async () => {
    const id = await mismatchOf(LARGE);
    const path = `/admin/api/payout-mismatches/${id}`;
    assert.equal(
      (await admin(first, 'POST', `${path}/settle`, { outcome: 'failed', reason: 'never paid' })).status,
      200,
    );
    const rejected = await admin(second, 'POST', `${path}/reject`, { reason: 'check with the bank first' });
    assert.equal(rejected.status, 200, rejected.text);
    assert.deepEqual(rejected.body, { transactionId: id, status: 'rejected' });
    assert.equal((await listed(id))?.pendingApproval, null);
    const none = await admin(second, 'POST', `${path}/approve`);
    assert.equal(none.status, 409, none.text);
    assert.equal(none.body.code, 'payout_settlement_not_pending');
    assert.equal((await api.get(`/v1/transactions/${id}`)).body.status, 'processing');
  });

  it('bad ids and bodies: 4xx problems, nothing changed', async () => {
    const bodies: Record<string, unknown> = {
      settle: { outcome: 'failed', reason: 'not there' },
      approve: undefined,
      reject: { reason: 'not there' },
    };
    for (const [op, body] of Object.entries(bodies)) {
      const res = await admin(second, 'POST', `/admin/api/payout-mismatches/txn_nope/${op}`, body);
      assert.equal(res.status, 404, `${op}: ${res.text}`);
      assert.equal(res.body.code, 'not_found');
    }
    const id = await mismatchOf(LARGE);
    const bad = await admin(first, 'POST', `/admin/api/payout-mismatches/${id}/settle`, {
      outcome: 'paid',
      reason: 'bad outcome',
    });
    assert.equal(bad.status, 400, bad.text);
    const noOutcome = await admin(first, 'POST', `/admin/api/payout-mismatches/${id}/settle`, {
      reason: 'no outcome given',
    });
    assert.equal(noOutcome.status, 409, noOutcome.text);
    assert.equal(noOutcome.body.code, 'payout_outcome_required');
    assert.equal((await listed(id))?.pendingApproval, null);
    const badPage = await admin(viewer, 'GET', '/admin/api/payout-mismatches?limit=0');
    assert.equal(badPage.status, 400, badPage.text);
  });

  it('takes the payout before the mismatch, as a contradicting provider event does: no deadlock', async () => {
    const id = await mismatchOf(SMALL);
    // Another session in a provider event's order: the payout's row first…
    const event = db.createQueryRunner();
    await event.connect();
    try {
      await event.startTransaction();
      await event.query(`SELECT 1 FROM payouts WHERE transaction_id = $1 FOR UPDATE`, [id]);
      const settling = admin(first, 'POST', `/admin/api/payout-mismatches/${id}/settle`, {
        outcome: 'failed',
        reason: 'never reached the provider',
      });
      await waitFor('the settlement waiting for a lock', async () => {
        const [row] = await db.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND usename = 'tally_app' AND wait_event_type = 'Lock'`,
        );
        return row.n > 0;
      });
      // …then the mismatch: free, since the settlement waits for the payout before taking it.
      // Taking them the other way round, the two would deadlock and one of them be cancelled.
      await event.query(`SET LOCAL lock_timeout = '5s'`);
      await event.query(`SELECT 1 FROM payout_mismatches WHERE transaction_id = $1 FOR UPDATE`, [id]);
      await event.commitTransaction();
      const settled = await settling;
      assert.equal(settled.status, 200, settled.text);
      assert.deepEqual(settled.body, { transactionId: id, status: 'settled', resolution: 'failed' });
    } finally {
      if (event.isTransactionActive) await event.rollbackTransaction().catch(() => undefined);
      await event.release();
    }
    assert.equal((await waitFinal(api, id)).status, 'failed');
  });
});
