import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { Api, BrokerProbe, metricSum, openDataSource, waitFor, waitFinal } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

describe('API: transactions, idempotency, refunds', () => {
  let stack: InProcessStack;
  let api: Api;
  let other: Api;
  let db: DataSource;

  beforeAll(async () => {
    stack = await InProcessStack.start('txns', ['gateway', 'transaction-worker']);
    api = new Api(stack.url('gateway'), (await newTenant('Acme')).apiKey);
    other = new Api(stack.url('gateway'), (await newTenant('Globex')).apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await stack.stop();
    await db.destroy();
  });

  const balance = async (id: string) => (await api.get(`/v1/accounts/${id}`)).body.balance;

  describe('each type moves money as documented', () => {
    it('deposit, withdrawal, transfer and charge: 202 + Location, then succeeded with entries', async () => {
      const a = await api.account();
      const b = await api.account();
      const accepted = await api.post(
        '/v1/transactions',
        {
          type: 'deposit',
          destinationAccountId: a,
          amount: 1000,
          currency: 'USD',
          description: 'top-up',
          metadata: { order: 'o-1' },
        },
        { 'idempotency-key': 'dep-1' },
      );
      assert.equal(accepted.status, 202);
      assert.equal(accepted.headers.get('location'), `/v1/transactions/${accepted.body.id}`);
      assert.match(accepted.body.id, /^txn_/);
      assert.ok(['pending', 'processing', 'succeeded'].includes(accepted.body.status));
      assert.deepEqual(Object.keys(accepted.body).sort(), [
        'amount',
        'completedAt',
        'createdAt',
        'currency',
        'description',
        'destinationAccountId',
        'failure',
        'id',
        'metadata',
        'parentTransactionId',
        'sourceAccountId',
        'status',
        'type',
      ]);
      const done = await waitFinal(api, accepted.body.id);
      assert.equal(done.status, 'succeeded');
      assert.equal(done.failure, null);
      assert.ok(done.completedAt);
      assert.deepEqual(done.metadata, { order: 'o-1' });

      assert.equal(
        (await api.transact({ type: 'withdrawal', sourceAccountId: a, amount: 100, currency: 'USD' })).body
          .status,
        'succeeded',
      );
      assert.equal(
        (
          await api.transact({
            type: 'transfer',
            sourceAccountId: a,
            destinationAccountId: b,
            amount: 300,
            currency: 'USD',
          })
        ).body.status,
        'succeeded',
      );
      assert.equal(
        (await api.transact({ type: 'charge', sourceAccountId: a, amount: 50, currency: 'USD' })).body.status,
        'succeeded',
      );
      assert.deepEqual(await balance(a), { posted: 550, held: 0, available: 550 });
      assert.deepEqual(await balance(b), { posted: 300, held: 0, available: 300 });

      const entries = (await api.get(`/v1/accounts/${a}/entries`)).body.data;
      assert.deepEqual(
        entries.map((e: { amount: number; balanceAfter: number }) => [e.amount, e.balanceAfter]),
        [
          [-50, 550],
          [-300, 600],
          [-100, 900],
          [1000, 1000],
        ],
      );
      assert.match(entries[0].id, /^ent_/);
    });

    it('Prefer: wait=N answers 200 with the final state; without it, 202', async () => {
      const a = await api.account();
      const waited = await api.post(
        '/v1/transactions',
        { type: 'deposit', destinationAccountId: a, amount: 5, currency: 'USD' },
        { 'idempotency-key': 'wait-1', prefer: 'wait=10' },
      );
      assert.equal(waited.status, 200);
      assert.equal(waited.body.status, 'succeeded');
      assert.equal(waited.headers.get('preference-applied'), 'wait=10');
    });

    it('insufficient funds fail the transaction (failure.code), and move nothing', async () => {
      const a = await api.account();
      await api.deposit(a, 100);
      const res = await api.transact({
        type: 'withdrawal',
        sourceAccountId: a,
        amount: 101,
        currency: 'USD',
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'failed');
      assert.equal(res.body.failure.code, 'insufficient_funds');
      assert.deepEqual(await balance(a), { posted: 100, held: 0, available: 100 });
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM ledger_entries WHERE transaction_id = $1`,
        [res.body.id],
      );
      assert.equal(n, 0);
    });
  });

  it('a final transaction stays as it is whatever is redelivered, even as a new message', async () => {
    const a = await api.account();
    await api.deposit(a, 100);
    const failed = (
      await api.transact({ type: 'withdrawal', sourceAccountId: a, amount: 500, currency: 'USD' })
    ).body;
    const succeeded = (
      await api.transact({ type: 'withdrawal', sourceAccountId: a, amount: 60, currency: 'USD' })
    ).body;
    assert.equal(failed.status, 'failed');
    assert.equal(succeeded.status, 'succeeded');
    await api.deposit(a, 1000); // now the failed withdrawal could pay, were it applied again
    const broker = await BrokerProbe.open();
    const [{ tenant_id: tenantId }] = await db.query(`SELECT tenant_id FROM accounts WHERE id = $1`, [a]);
    const duplicates = () =>
      metricSum(
        stack.url('transaction-worker'),
        'tally_messages_consumed_total',
        'type="transaction.requested"',
        'outcome="duplicate"',
      );
    const duplicatesBefore = await duplicates();
    // Published together, the two copies of one message id usually reach the worker in one batch.
    await Promise.all(
      [failed, succeeded, succeeded].map((t) =>
        broker.publishConfirmed(
          `${stack.prefix}tally.commands`,
          'transaction.requested',
          { transactionId: t.id, tenantId },
          { messageId: `replay-${t.id}`, type: 'transaction.requested' },
        ),
      ),
    );
    await broker.close();
    // Both ids are in the inbox once the first copies commit; the second copy of the succeeded
    // one is settled (and counted a duplicate) whether it came in the same batch or a later one.
    await waitFor('both replays to be consumed', async () => {
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM inbox WHERE message_id IN ($1, $2)`, [
        `replay-${failed.id}`,
        `replay-${succeeded.id}`,
      ]);
      return n === 2;
    });
    await waitFor(
      'the second copy to be counted as a duplicate',
      async () => (await duplicates()) > duplicatesBefore,
    );
    assert.equal(await duplicates(), duplicatesBefore + 1);
    assert.equal((await api.get(`/v1/transactions/${failed.id}`)).body.status, 'failed');
    const entries = async (id: string) =>
      (await db.query(`SELECT count(*)::int AS n FROM ledger_entries WHERE transaction_id = $1`, [id]))[0].n;
    assert.equal(await entries(failed.id), 0);
    assert.equal(await entries(succeeded.id), 2);
    assert.equal((await balance(a)).posted, 1040);
  });

  describe('checked before answering', () => {
    it('accounts must exist in this tenant: 404 account_not_found', async () => {
      const theirs = await other.account();
      const res = await api.post(
        '/v1/transactions',
        { type: 'deposit', destinationAccountId: theirs, amount: 1, currency: 'USD' },
        { 'idempotency-key': 'nf-1' },
      );
      assert.equal(res.status, 404);
      assert.equal(res.body.code, 'account_not_found');
    });

    it('currencies must match: 422 currency_mismatch', async () => {
      const eur = await api.account({ currency: 'EUR' });
      const usd = await api.account({ currency: 'USD' });
      const res = await api.post(
        '/v1/transactions',
        { type: 'transfer', sourceAccountId: usd, destinationAccountId: eur, amount: 1, currency: 'USD' },
        { 'idempotency-key': 'cm-1' },
      );
      assert.equal(res.status, 422);
      assert.equal(res.body.code, 'currency_mismatch');
    });

    it('frozen accounts: 422 account_frozen', async () => {
      const a = await api.account();
      await db.query(`UPDATE accounts SET status = 'frozen' WHERE id = $1`, [a]);
      const res = await api.post(
        '/v1/transactions',
        { type: 'deposit', destinationAccountId: a, amount: 1, currency: 'USD' },
        { 'idempotency-key': 'fz-1' },
      );
      assert.equal(res.status, 422);
      assert.equal(res.body.code, 'account_frozen');
      assert.equal((await api.get(`/v1/accounts/${a}`)).body.status, 'frozen');
    });

    it('Idempotency-Key is required: 400 idempotency_key_required; and must be 1-255 visible characters', async () => {
      const a = await api.account();
      const body = { type: 'deposit', destinationAccountId: a, amount: 1, currency: 'USD' };
      const missing = await api.post('/v1/transactions', body);
      assert.equal(missing.status, 400);
      assert.equal(missing.body.code, 'idempotency_key_required');
      const long = await api.post('/v1/transactions', body, { 'idempotency-key': 'k'.repeat(256) });
      assert.equal(long.status, 400);
    });

    it('amounts must be positive integers up to 10^15 as JSON numbers; shapes are strict', async () => {
      const a = await api.account();
      const b = await api.account();
      const bad: Record<string, unknown>[] = [
        { amount: 10.5 },
        { amount: '100' },
        { amount: 0 },
        { amount: -5 },
        { amount: 1_000_000_000_000_001 },
        { amount: 1e300 },
        { amount: null },
        { currency: 'usd' },
        { currency: 'TOOLONGCURRENCY' },
        { extra: 'field' },
        { type: 'teleport' },
        { description: 'x'.repeat(501) },
        { destinationAccountId: undefined },
      ];
      for (const change of bad) {
        const body = { type: 'deposit', destinationAccountId: a, amount: 10, currency: 'USD', ...change };
        const res = await api.post('/v1/transactions', body, { 'idempotency-key': `bad-${Math.random()}` });
        assert.equal(res.status, 400, JSON.stringify(change));
        assert.equal(res.body.code, 'validation_error');
        assert.ok(res.body.errors.length > 0);
      }
      const floatLiteral = await api.request('POST', '/v1/transactions', {
        raw: `{"type":"deposit","destinationAccountId":"${a}","amount":10.0,"currency":"USD"}`,
        headers: { 'content-type': 'application/json', 'idempotency-key': 'float-literal' },
      });
      assert.equal(floatLiteral.status, 400, '10.0 is a float literal');
      const same = await api.post(
        '/v1/transactions',
        { type: 'transfer', sourceAccountId: a, destinationAccountId: a, amount: 1, currency: 'USD' },
        { 'idempotency-key': 'same-acc' },
      );
      assert.equal(same.status, 400);
      const max = await api.post(
        '/v1/transactions',
        { type: 'deposit', destinationAccountId: b, amount: 1_000_000_000_000_000, currency: 'USD' },
        { 'idempotency-key': 'max-ok', prefer: 'wait=10' },
      );
      assert.equal(max.body.status, 'succeeded', 'exactly 10^15 is allowed');
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM idempotency_keys WHERE key LIKE 'bad-%'`,
      );
      assert.equal(n, 0, 'a failed validation is not stored');
    });
  });

  describe('reading', () => {
    it('GET /v1/transactions/{id}; another tenant gets 404 transaction_not_found', async () => {
      const a = await api.account();
      const t = await api.deposit(a, 7);
      assert.equal((await api.get(`/v1/transactions/${t.id}`)).body.amount, 7);
      const theirs = await other.get(`/v1/transactions/${t.id}`);
      assert.equal(theirs.status, 404);
      assert.equal(theirs.body.code, 'transaction_not_found');
    });

    it('GET /v1/transactions filters by account, status and type, newest first, paged', async () => {
      const tenant = new Api(stack.url('gateway'), (await newTenant('Lister')).apiKey);
      const a = await tenant.account();
      const b = await tenant.account();
      const d1 = await tenant.deposit(a, 100);
      const d2 = await tenant.deposit(b, 100);
      const tr = (
        await tenant.transact({
          type: 'transfer',
          sourceAccountId: a,
          destinationAccountId: b,
          amount: 10,
          currency: 'USD',
        })
      ).body;
      const failed = (
        await tenant.transact({ type: 'withdrawal', sourceAccountId: a, amount: 1000, currency: 'USD' })
      ).body;
      const ids = (r: { body: { data: { id: string }[] } }) => r.body.data.map((t) => t.id);
      assert.deepEqual(ids(await tenant.get('/v1/transactions')), [failed.id, tr.id, d2.id, d1.id]);
      assert.deepEqual(ids(await tenant.get(`/v1/transactions?accountId=${a}`)), [failed.id, tr.id, d1.id]);
      assert.deepEqual(ids(await tenant.get(`/v1/transactions?accountId=${b}`)), [tr.id, d2.id]);
      assert.deepEqual(ids(await tenant.get('/v1/transactions?status=failed')), [failed.id]);
      assert.deepEqual(ids(await tenant.get('/v1/transactions?type=deposit')), [d2.id, d1.id]);
      const page1 = await tenant.get('/v1/transactions?limit=3');
      assert.deepEqual(ids(page1), [failed.id, tr.id, d2.id]);
      assert.deepEqual(ids(await tenant.get(`/v1/transactions?limit=3&cursor=${page1.body.nextCursor}`)), [
        d1.id,
      ]);
      assert.equal((await tenant.get('/v1/transactions?status=done')).status, 400);
      assert.equal((await tenant.get('/v1/transactions?type=gift')).status, 400);
    });
  });

  describe('idempotency', () => {
    it('same key, same request: the first answer again, marked replayed, executed once', async () => {
      const a = await api.account();
      const body = { type: 'deposit', destinationAccountId: a, amount: 40, currency: 'USD' };
      const first = await api.post('/v1/transactions', body, { 'idempotency-key': 'same-1' });
      const second = await api.post(
        '/v1/transactions',
        { currency: 'USD', amount: 40, destinationAccountId: a, type: 'deposit' },
        {
          'idempotency-key': 'same-1',
        },
      );
      assert.equal(first.status, 202);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      assert.equal(second.status, 202);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(second.text, first.text);
      assert.equal(second.headers.get('location'), first.headers.get('location'));
      await waitFinal(api, first.body.id);
      assert.deepEqual(await balance(a), { posted: 40, held: 0, available: 40 });
    });

    it('same key, different body or path: 422 idempotency_key_reused; keys are per tenant', async () => {
      const a = await api.account();
      const body = { type: 'deposit', destinationAccountId: a, amount: 40, currency: 'USD' };
      assert.equal((await api.post('/v1/transactions', body, { 'idempotency-key': 'reuse-1' })).status, 202);
      const changed = await api.post(
        '/v1/transactions',
        { ...body, amount: 41 },
        { 'idempotency-key': 'reuse-1' },
      );
      assert.equal(changed.status, 422);
      assert.equal(changed.body.code, 'idempotency_key_reused');
      const otherPath = await api.post('/v1/accounts', { currency: 'USD' }, { 'idempotency-key': 'reuse-1' });
      assert.equal(otherPath.status, 422);
      const b = await other.account();
      const otherTenant = await other.post(
        '/v1/transactions',
        { type: 'deposit', destinationAccountId: b, amount: 40, currency: 'USD' },
        { 'idempotency-key': 'reuse-1' },
      );
      assert.equal(otherTenant.status, 202);
      assert.equal(otherTenant.headers.get('idempotent-replayed'), null);
    });

    it('a refused request is replayed as refused (404 stays 404 under its key)', async () => {
      const body = {
        type: 'deposit',
        destinationAccountId: 'acc_00000000000000000000000000',
        amount: 1,
        currency: 'USD',
      };
      const first = await api.post('/v1/transactions', body, { 'idempotency-key': 'refused-1' });
      const again = await api.post('/v1/transactions', body, { 'idempotency-key': 'refused-1' });
      assert.equal(first.status, 404);
      assert.equal(again.status, 404);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.code, 'account_not_found');
    });

    it('POST /v1/accounts accepts a key too', async () => {
      const first = await api.post('/v1/accounts', { currency: 'GBP' }, { 'idempotency-key': 'acct-1' });
      const again = await api.post('/v1/accounts', { currency: 'GBP' }, { 'idempotency-key': 'acct-1' });
      assert.equal(first.status, 201);
      assert.equal(again.status, 201);
      assert.equal(again.body.id, first.body.id);
    });

    it('the same key sent 20 times at once: one transaction; the rest 409 in flight or replays', async () => {
      // Several rounds: the race between a duplicate's snapshot and the first request's commit
      // is narrow, and each round is another chance to lose it.
      for (let round = 0; round < 10; round++) {
        const a = await api.account();
        const body = { type: 'deposit', destinationAccountId: a, amount: 3, currency: 'USD' };
        const answers = await Promise.all(
          Array.from({ length: 20 }, () =>
            api.post('/v1/transactions', body, { 'idempotency-key': `burst-${round}` }),
          ),
        );
        const statuses = answers.map((r) => r.status);
        assert.ok(
          statuses.every((s) => s === 202 || s === 409),
          statuses.join(','),
        );
        const fresh = answers.filter(
          (r) => r.status === 202 && r.headers.get('idempotent-replayed') === null,
        );
        assert.equal(fresh.length, 1, `round ${round}: exactly one request did the work`);
        for (const r of answers.filter((r) => r.status === 409))
          assert.equal(r.body.code, 'idempotency_key_in_use');
        const ids = new Set(answers.filter((r) => r.status === 202).map((r) => r.body.id));
        assert.equal(ids.size, 1);
        const [{ n }] = await db.query(
          `SELECT count(*)::int AS n FROM transactions WHERE destination_account_id = $1`,
          [a],
        );
        assert.equal(n, 1);
        await waitFinal(api, [...ids][0]);
        assert.equal((await balance(a)).posted, 3);
      }
    });
  });

  describe('refunds', () => {
    it('partial, then the rest by default, then one too many (refused, nothing moves)', async () => {
      const a = await api.account();
      await api.deposit(a, 500);
      const charge = (
        await api.transact({ type: 'charge', sourceAccountId: a, amount: 200, currency: 'USD' })
      ).body;
      assert.equal(charge.status, 'succeeded');

      const partial = (await api.transact({ type: 'refund', parentTransactionId: charge.id, amount: 50 }))
        .body;
      assert.equal(partial.status, 'succeeded');
      assert.equal(partial.parentTransactionId, charge.id);
      assert.equal(partial.destinationAccountId, a);
      assert.equal(partial.currency, 'USD');
      assert.equal((await balance(a)).posted, 350);

      const rest = (await api.transact({ type: 'refund', parentTransactionId: charge.id })).body;
      assert.equal(rest.status, 'succeeded');
      assert.equal(rest.amount, 150, 'defaults to what is left');
      assert.equal((await balance(a)).posted, 500);

      const tooMany = await api.transact({ type: 'refund', parentTransactionId: charge.id, amount: 1 });
      assert.equal(tooMany.status, 422);
      assert.equal(tooMany.body.code, 'transaction_not_refundable');
      assert.equal((await balance(a)).posted, 500);
    });

    it('asking for more than is left is 422 refund_exceeds_remaining; deposits cannot be refunded', async () => {
      const a = await api.account();
      const b = await api.account();
      await api.deposit(a, 100);
      const transfer = (
        await api.transact({
          type: 'transfer',
          sourceAccountId: a,
          destinationAccountId: b,
          amount: 60,
          currency: 'USD',
        })
      ).body;
      const over = await api.transact({ type: 'refund', parentTransactionId: transfer.id, amount: 61 });
      assert.equal(over.status, 422);
      assert.equal(over.body.code, 'refund_exceeds_remaining');
      const back = (await api.transact({ type: 'refund', parentTransactionId: transfer.id, amount: 60 }))
        .body;
      assert.equal(back.status, 'succeeded');
      assert.deepEqual([(await balance(a)).posted, (await balance(b)).posted], [100, 0]);
      const dep = (await api.get(`/v1/transactions?accountId=${a}&type=deposit`)).body.data[0];
      const notRefundable = await api.transact({ type: 'refund', parentTransactionId: dep.id });
      assert.equal(notRefundable.status, 422);
      assert.equal(notRefundable.body.code, 'transaction_not_refundable');
      const missing = await api.transact({
        type: 'refund',
        parentTransactionId: 'txn_00000000000000000000000000',
      });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, 'transaction_not_found');
    });

    it('concurrent refunds never exceed the original: the worker re-checks under the lock', async () => {
      const a = await api.account();
      await api.deposit(a, 100);
      const charge = (
        await api.transact({ type: 'charge', sourceAccountId: a, amount: 100, currency: 'USD' })
      ).body;
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          api.transact({ type: 'refund', parentTransactionId: charge.id, amount: 70 }),
        ),
      );
      const statuses = results.map((r) => r.body.status ?? r.body.code).sort();
      assert.equal(statuses.filter((s) => s === 'succeeded').length, 1, statuses.join(','));
      for (const r of results.filter((r) => r.body.status === 'failed')) {
        assert.ok(['refund_exceeds_remaining', 'transaction_not_refundable'].includes(r.body.failure.code));
      }
      assert.equal((await balance(a)).posted, 70);
    });
  });
});
