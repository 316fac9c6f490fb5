import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource, QueryRunner } from 'typeorm';
import { Api, metricSum, openDataSource, sendProviderEvent, waitFinal, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';
import {
  startProviderSimulator,
  type ProviderSimulator,
} from '../../tools/provider-simulator/src/simulator.js';

/**
 * A provider webhook that cannot be applied — its payout locked by another session past the
 * worker's statement timeout — is set aside and retried, while the dispatcher goes on sending and
 * settling other payouts; a later event of the same payout waits for it. Before, the failing
 * event was claimed again first on every pass, each pass ended there, and no payout was sent.
 */
describe('a provider event that fails to apply', () => {
  let sim: ProviderSimulator;
  let stack: InProcessStack;
  let api: Api;
  let db: DataSource;
  const SECRET = 'test-provider-webhook-secret';
  const MANUAL = 909; // never settled by the simulator within the test: the test sends its events

  beforeAll(async () => {
    sim = await startProviderSimulator({
      webhookSecret: SECRET,
      behaviour: { settleAfterMs: 50, byAmount: { [MANUAL]: { settleAfterMs: 600_000 } } },
    });
    stack = await InProcessStack.start('payout-event-retries', ['gateway', 'transaction-worker'], {
      PAYOUT_PROVIDER_URL: sim.url,
      PAYOUT_PROVIDER_TIMEOUT_MS: '500',
      PAYOUT_RETRY_BASE_MS: '50',
      PAYOUT_RETRY_MAX_MS: '200',
      PAYOUT_OUTCOME_AFTER_MS: '60000',
      PAYOUT_DISPATCH_INTERVAL_MS: '50',
      PAYOUT_PROVIDER_WEBHOOK_SECRET: SECRET,
      // A lock wait fails the statement after a second, as a slow database would.
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
    });
    sim.setWebhookUrl(`${stack.url('gateway')}/v1/provider-events`);
    api = new Api(stack.url('gateway'), (await newTenant('Payout event retries')).apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
    await sim?.close();
  });

  const withdraw = async (amount: number) => {
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 5000);
    const res = await api.transact(
      { type: 'withdrawal', sourceAccountId: account, amount, currency: 'USD' },
      0,
    );
    assert.equal(res.status, 202, res.text);
    return res.body.id as string;
  };
  const providerEvent = async (id: string, reference: string, payoutId: string, status: string) => {
    const res = await sendProviderEvent(stack.url('gateway'), SECRET, {
      id,
      type: `payout.${status}`,
      data: { id: payoutId, reference, status },
    });
    assert.equal(res.status, 200, res.text);
  };
  const eventRow = async (id: string) =>
    (
      (await db.query(`SELECT attempts, last_error, applied_at FROM provider_events WHERE id = $1`, [
        id,
      ])) as { attempts: number; last_error: string | null; applied_at: Date | null }[]
    )[0]!;

  it('is set aside and retried; other payouts go on; the payout’s later events wait for it', async () => {
    const stuck = await withdraw(MANUAL);
    const payoutId = await waitFor('accepted by the provider', async () => {
      const [row] = await db.query(
        `SELECT provider_payout_id FROM payouts WHERE transaction_id = $1 AND status = 'accepted'`,
        [stuck],
      );
      return row?.provider_payout_id as string | undefined;
    });

    // Another session holds the payout's row: settling it waits, then times out.
    const blocker: QueryRunner = db.createQueryRunner();
    await blocker.connect();
    let locked = true;
    try {
      await blocker.startTransaction();
      await blocker.query(`SELECT 1 FROM payouts WHERE transaction_id = $1 FOR UPDATE`, [stuck]);
      const paid = `pevt_paid_${stuck}`;
      const returned = `pevt_returned_${stuck}`;
      await providerEvent(paid, stuck, payoutId, 'paid');
      await providerEvent(returned, stuck, payoutId, 'returned');
      const failed = await waitFor('the paid event failed and set aside', async () => {
        const row = await eventRow(paid);
        return row.attempts >= 1 ? row : null;
      });
      assert.match(failed.last_error ?? '', /statement timeout/);
      assert.equal(failed.applied_at, null);
      // Operators see it: the worker counts each event set aside.
      assert.ok(
        (await metricSum(stack.url('transaction-worker'), 'tally_provider_events_set_aside_total')) >= 1,
        'the set-aside event is counted',
      );

      // Meanwhile another withdrawal is sent, paid and settled by its own webhook.
      const other = await withdraw(120);
      assert.equal((await waitFinal(api, other)).status, 'succeeded');
      const [{ provider_payout_id: otherPayout }] = await db.query(
        `SELECT provider_payout_id FROM payouts WHERE transaction_id = $1`,
        [other],
      );
      assert.equal(sim.payout(otherPayout)?.status, 'paid');

      // The payout's later event was never tried ahead of the one set aside.
      assert.equal((await eventRow(returned)).attempts, 0);
      assert.equal((await eventRow(paid)).applied_at, null);
      assert.equal((await api.get(`/v1/transactions/${stuck}`)).body.status, 'processing');

      await blocker.commitTransaction();
      locked = false;
    } finally {
      if (locked) await blocker.rollbackTransaction().catch(() => undefined);
      await blocker.release();
    }

    // Once the lock is gone: paid first (succeeded, entries posted), then the return, which
    // contradicts a final payout and is recorded as a mismatch, not applied.
    assert.equal((await waitFinal(api, stuck)).status, 'succeeded');
    await waitFor('both events applied', async () => {
      const [row] = await db.query(
        `SELECT count(*)::int AS open FROM provider_events WHERE reference = $1 AND applied_at IS NULL`,
        [stuck],
      );
      return row.open === 0;
    });
    const [mismatch] = await db.query(
      `SELECT kind, provider_status FROM payout_mismatches WHERE transaction_id = $1`,
      [stuck],
    );
    assert.deepEqual(mismatch, { kind: 'failed_but_succeeded', provider_status: 'returned' });
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM ledger_entries WHERE transaction_id = $1`,
      [stuck],
    );
    assert.equal(n, 2);
  });
});
