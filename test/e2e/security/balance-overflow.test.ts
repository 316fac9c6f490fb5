import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, BrokerProbe, Stack, createTenant, openDataSource, waitFinal, waitFor } from '#test-support';

const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);
const key = () => `of-${Math.random().toString(36).slice(2)}-${Date.now()}`;

/**
 * A tenant can drive a balance (its own account's, or one of its system accounts') toward the
 * 64-bit edge by depositing and charging. Past it, the change must fail as a business outcome
 * (`amount_overflow`) at once: never a batch the database refuses, retried into the DLQ with the
 * transaction pending for ever and the rest of its batch held back with it.
 * Getting near the edge takes 9,223 maximal deposits, so each test sets the balances it needs as
 * the schema owner and puts them back before it ends (nothing is posted meanwhile: the ledger
 * still adds up for the suite's last check).
 */
describe('balances at the edge of the 64-bit range (security: a tenant-driven overflow)', () => {
  let stack: Stack;
  let api: Api;
  let db: DataSource;
  let broker: BrokerProbe;
  let tenantId: string;

  const systemAccount = async (kind: 'external' | 'revenue', currency = 'USD') =>
    (
      await db.query(`SELECT id FROM accounts WHERE tenant_id = $1 AND kind = $2 AND currency = $3`, [
        tenantId,
        kind,
        currency,
      ])
    )[0].id as string;
  const posted = async (id: string) =>
    BigInt((await db.query(`SELECT posted::text FROM accounts WHERE id = $1`, [id]))[0].posted);
  /** Runs `body` with the accounts' posted balances set as given, then puts them back. */
  const withBalances = async (set: Record<string, bigint>, body: () => Promise<void>) => {
    const saved = Object.fromEntries(
      await Promise.all(Object.keys(set).map(async (id) => [id, await posted(id)])),
    );
    const write = (balances: Record<string, bigint>) =>
      db.query(
        `UPDATE accounts a SET posted = d.posted FROM unnest($1::text[], $2::bigint[]) d(id, posted) WHERE a.id = d.id`,
        [Object.keys(balances), Object.values(balances).map(String)],
      );
    await write(set);
    try {
      await body();
      for (const [id, value] of Object.entries(set)) assert.equal(await posted(id), value, `${id} unchanged`);
    } finally {
      await write(saved);
    }
  };
  const entriesOf = async (transactionId: string) =>
    (
      await db.query(`SELECT count(*)::int AS n FROM ledger_entries WHERE transaction_id = $1`, [
        transactionId,
      ])
    )[0].n;
  const dlq = () => broker.depth(`${stack.prefix}transaction-worker.commands.dlq`);

  beforeAll(async () => {
    stack = await Stack.start('overflow', ['gateway', 'transaction-worker']);
    const tenant = await createTenant('Overflow');
    tenantId = tenant.tenantId;
    api = new Api(stack.url('gateway'), tenant.apiKey);
    db = await openDataSource(2);
    broker = await BrokerProbe.open();
  });
  afterAll(async () => {
    await broker?.close();
    await db?.destroy();
    await stack.stop();
  });

  it('a deposit past the largest balance fails amount_overflow at once; the rest of its batch goes on', async () => {
    const full = await api.account();
    await api.deposit(full, 100);
    const other = await api.account({ currency: 'EUR' });
    const external = await systemAccount('external');
    const near = MAX - 50n;
    await withBalances({ [full]: near, [external]: -near }, async () => {
      // Sent together: usually one batch. The EUR deposit touches none of the accounts set here.
      const [over, fine] = await Promise.all([
        api.transact({ type: 'deposit', destinationAccountId: full, amount: 51, currency: 'USD' }),
        api.transact({ type: 'deposit', destinationAccountId: other, amount: 7, currency: 'EUR' }),
      ]);
      const failed = await waitFinal(api, over.body.id);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.failure.code, 'amount_overflow');
      assert.equal(await entriesOf(failed.id), 0);
      assert.equal((await waitFinal(api, fine.body.id)).status, 'succeeded');
      // Up to the edge is still fine for the rules (not posted here: the ledger must add up).
    });
    assert.equal(await dlq(), 0);
  });

  it("a deposit that would take the tenant's external account below the smallest balance fails amount_overflow", async () => {
    const account = await api.account();
    await api.deposit(account, 1);
    const external = await systemAccount('external');
    await withBalances({ [external]: MIN + 5n }, async () => {
      const res = await api.transact({
        type: 'deposit',
        destinationAccountId: account,
        amount: 6,
        currency: 'USD',
      });
      const t = await waitFinal(api, res.body.id);
      assert.deepEqual([t.status, t.failure?.code], ['failed', 'amount_overflow']);
      assert.equal(await entriesOf(t.id), 0);
      assert.deepEqual((await api.get(`/v1/accounts/${account}`)).body.balance, {
        posted: 1,
        held: 0,
        available: 1,
      });
    });
    assert.equal(await dlq(), 0);
  });

  it('a charge, a capture and a usage charge into a full revenue account fail amount_overflow; the hold stays usable', async () => {
    await api.meter({
      eventType: 'overflow.call',
      aggregation: 'count',
      unitPrice: 10,
      currency: 'USD',
    });
    const wallet = await api.account();
    await api.deposit(wallet, 1000);
    const first = await api.transact({ type: 'charge', sourceAccountId: wallet, amount: 1, currency: 'USD' });
    assert.equal(first.body.status, 'succeeded');
    const revenue = await systemAccount('revenue');
    const revenueNow = await posted(revenue);
    await withBalances({ [revenue]: MAX - 5n }, async () => {
      const charge = await waitFinal(
        api,
        (await api.transact({ type: 'charge', sourceAccountId: wallet, amount: 10, currency: 'USD' })).body
          .id,
      );
      assert.deepEqual([charge.status, charge.failure?.code], ['failed', 'amount_overflow']);

      const hold = await api.post(
        '/v1/holds',
        { accountId: wallet, amount: 10, currency: 'USD' },
        { 'idempotency-key': key() },
      );
      assert.equal(hold.status, 201, hold.text);
      const capture = await api.post(`/v1/holds/${hold.body.id}/capture`, {}, { 'idempotency-key': key() });
      assert.equal(capture.status, 202, capture.text);
      const captured = await waitFinal(api, capture.body.id);
      assert.deepEqual([captured.status, captured.failure?.code], ['failed', 'amount_overflow']);
      // A failed capture gives its hold back, whole.
      assert.equal((await api.get(`/v1/holds/${hold.body.id}`)).body.status, 'active');
      assert.deepEqual((await api.get(`/v1/accounts/${wallet}`)).body.balance, {
        posted: 999,
        held: 10,
        available: 989,
      });

      const eventId = key();
      const sent = await api.post('/v1/events', { id: eventId, type: 'overflow.call', accountId: wallet });
      assert.equal(sent.status, 202, sent.text);
      const event = await waitFor('the usage event to be processed', async () => {
        const res = await api.get(`/v1/events/${eventId}`);
        return res.body?.status === 'processed' ? res.body : null;
      });
      assert.deepEqual([event.billing.status, event.billing.failure?.code], ['unbilled', 'amount_overflow']);
      for (const t of [charge, captured]) assert.equal(await entriesOf(t.id), 0);
    });
    assert.equal(await posted(revenue), revenueNow);
    assert.equal(await dlq(), 0);
    const voided = await api.request(
      'POST',
      `/v1/holds/${
        (await db.query(`SELECT id FROM holds WHERE account_id = $1 AND status = 'active'`, [wallet]))[0].id
      }/void`,
      { headers: { 'idempotency-key': key() } },
    );
    assert.equal(voided.status, 200, voided.text);
  });
});
