import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it, jest } from '@jest/globals';
import { openDataSource } from '#test-support';
import { fakeDate } from '../support/jest/fake-date.js';
import { UseCases } from '../support/use-cases.js';

/**
 * The ledger's use cases called directly through their Nest providers — the gateway's
 * CreateTransaction, HoldsService and IdempotencyService, the worker's TransactionBatcher
 * (ApplyTransactions) and HoldExpirySweep — on the real database, each test on a tenant of its own.
 */
describe('ledger use cases on PostgreSQL', () => {
  let uc: UseCases;

  beforeAll(async () => {
    uc = await UseCases.open();
  });
  afterAll(() => uc?.close());

  const balance = async (account: string) => {
    const [row] = await uc.db.query(`SELECT posted::text, held::text FROM accounts WHERE id = $1`, [account]);
    return { posted: BigInt(row.posted), held: BigInt(row.held) };
  };
  const entriesOf = async (transactionId: string) =>
    (
      await uc.db.query(`SELECT amount::text FROM ledger_entries WHERE transaction_id = $1`, [transactionId])
    ).map((r: { amount: string }) => BigInt(r.amount));

  it('applies deposits, withdrawals, transfers and charges: two entries each, summing to zero', async () => {
    const { tenantId, accounts } = await uc.tenantWithAccounts(2);
    const [a, b] = accounts;
    const results = [
      await uc.transact(tenantId, {
        type: 'deposit',
        destinationAccountId: a,
        amount: 1000n,
        currency: 'USD',
      }),
      await uc.transact(tenantId, { type: 'withdrawal', sourceAccountId: a, amount: 100n, currency: 'USD' }),
      await uc.transact(tenantId, {
        type: 'transfer',
        sourceAccountId: a,
        destinationAccountId: b,
        amount: 300n,
        currency: 'USD',
      }),
      await uc.transact(tenantId, { type: 'charge', sourceAccountId: a, amount: 50n, currency: 'USD' }),
    ];
    for (const t of results) {
      assert.equal(t.status, 'succeeded', t.id);
      const entries = await entriesOf(t.id);
      assert.equal(entries.length, 2);
      assert.equal(entries[0] + entries[1], 0n);
    }
    assert.deepEqual(await balance(a), { posted: 550n, held: 0n });
    assert.deepEqual(await balance(b), { posted: 300n, held: 0n });
  });

  it('fails a withdrawal beyond the balance for good: no entry, nothing moves', async () => {
    const { tenantId, accounts } = await uc.tenantWithAccounts(1);
    await uc.transact(tenantId, {
      type: 'deposit',
      destinationAccountId: accounts[0],
      amount: 100n,
      currency: 'USD',
    });
    const t = await uc.transact(tenantId, {
      type: 'withdrawal',
      sourceAccountId: accounts[0],
      amount: 101n,
      currency: 'USD',
    });
    assert.deepEqual([t.status, t.failure_code], ['failed', 'insufficient_funds']);
    assert.deepEqual(await entriesOf(t.id), []);
    assert.deepEqual(await balance(accounts[0]), { posted: 100n, held: 0n });
  });

  it('a command delivered again, as the same message or a new one, changes nothing', async () => {
    const { tenantId, accounts } = await uc.tenantWithAccounts(1);
    const { id } = await uc.accept(tenantId, {
      type: 'deposit',
      destinationAccountId: accounts[0],
      amount: 70n,
      currency: 'USD',
    });
    await uc.deliver(id, `m-${id}`);
    await uc.deliver(id, `m-${id}`); // a redelivery: the inbox has it
    await uc.deliver(id); // a copy under another message id: the transaction is final
    assert.equal((await entriesOf(id)).length, 2);
    assert.deepEqual(await balance(accounts[0]), { posted: 70n, held: 0n });
  });

  it('refunds: what is left by default, never beyond the original, re-checked by the worker', async () => {
    const { tenantId, accounts } = await uc.tenantWithAccounts(1);
    const [a] = accounts;
    await uc.transact(tenantId, { type: 'deposit', destinationAccountId: a, amount: 100n, currency: 'USD' });
    const charge = await uc.transact(tenantId, {
      type: 'charge',
      sourceAccountId: a,
      amount: 100n,
      currency: 'USD',
    });
    // Both accepted while 100 is left; applied one after the other, the second no longer fits.
    const first = await uc.accept(tenantId, { type: 'refund', parentTransactionId: charge.id, amount: 70n });
    const second = await uc.accept(tenantId, { type: 'refund', parentTransactionId: charge.id, amount: 70n });
    await uc.deliver(first.id);
    await uc.deliver(second.id);
    const [[one], [two]] = await Promise.all(
      [first.id, second.id].map((id) =>
        uc.db.query(`SELECT status, failure_code FROM transactions WHERE id = $1`, [id]),
      ),
    );
    assert.deepEqual([one.status, two.status], ['succeeded', 'failed']);
    assert.equal(two.failure_code, 'refund_exceeds_remaining');
    await assert.rejects(
      uc.accept(tenantId, { type: 'refund', parentTransactionId: charge.id, amount: 31n }),
      /refund|exceed/i,
    );
    const rest = await uc.transact(tenantId, { type: 'refund', parentTransactionId: charge.id });
    assert.equal(rest.status, 'succeeded');
    const [{ refunded }] = await uc.db.query(
      `SELECT refunded_amount::text AS refunded FROM transactions WHERE id = $1`,
      [charge.id],
    );
    assert.equal(refunded, '100');
    assert.deepEqual(await balance(a), { posted: 100n, held: 0n });
  });

  it('idempotency: the same key runs the work once and replays its answer; another body is refused', async () => {
    const { tenantId } = await uc.tenantWithAccounts(0);
    let runs = 0;
    const call = (body: unknown) =>
      uc.idempotency.execute(
        { tenantId, key: 'svc-key-1', method: 'POST', path: '/v1/things', body },
        async () => {
          runs++;
          return { status: 201, body: { n: runs }, headers: { Location: '/v1/things/1' } };
        },
      );
    const first = await call({ a: 1 });
    const again = await call({ a: 1 });
    assert.equal(runs, 1);
    assert.deepEqual([first.replayed, again.replayed], [false, true]);
    assert.equal(again.text, first.text);
    assert.equal(again.status, 201);
    await assert.rejects(call({ a: 2 }), /reused|different/i);
    assert.equal(runs, 1);
  });

  it('holds: placed against available funds, captured by the worker, voided at once', async () => {
    const { tenantId, accounts } = await uc.tenantWithAccounts(1);
    const [a] = accounts;
    await uc.transact(tenantId, { type: 'deposit', destinationAccountId: a, amount: 500n, currency: 'USD' });
    const place = (amount: bigint) =>
      uc.db.transaction((m) =>
        uc.holds.create(m, tenantId, { accountId: a, amount, currency: 'USD', expiresInSeconds: 3600 }, null),
      );
    const h1 = await place(300n);
    await assert.rejects(place(201n), /insufficient/i);
    assert.deepEqual(await balance(a), { posted: 500n, held: 300n });

    const capture = await uc.db.transaction((m) => uc.holds.capture(m, tenantId, h1.id, 120n, null));
    await uc.deliver(capture.id);
    assert.deepEqual(await balance(a), { posted: 380n, held: 0n });
    const [{ status }] = await uc.db.query(`SELECT status FROM holds WHERE id = $1`, [h1.id]);
    assert.equal(status, 'captured');

    const h2 = await place(200n);
    await uc.db.transaction((m) => uc.holds.void(m, tenantId, h2.id));
    assert.deepEqual(await balance(a), { posted: 380n, held: 0n });
    await assert.rejects(
      uc.db.transaction((m) => uc.holds.void(m, tenantId, h2.id)),
      /not active|hold/i,
    );
  });

  it('expired holds are released once by the sweep, with one hold.expired each', async () => {
    const { tenantId, accounts } = await uc.tenantWithAccounts(1);
    const [a] = accounts;
    await uc.transact(tenantId, { type: 'deposit', destinationAccountId: a, amount: 100n, currency: 'USD' });
    const holds = [];
    for (const amount of [10n, 20n, 30n]) {
      holds.push(
        await uc.db.transaction((m) =>
          uc.holds.create(
            m,
            tenantId,
            { accountId: a, amount, currency: 'USD', expiresInSeconds: 3600 },
            null,
          ),
        ),
      );
    }
    const ids = holds.map((h) => h.id);
    // The apps' role may not move time; the owner's connection does it in set-up only.
    const owner = await openDataSource(1);
    try {
      await owner.query(`UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = ANY($1)`, [
        ids,
      ]);
    } finally {
      await owner.destroy();
    }
    // Other tests' holds may expire in this sweep too: this tenant's are what is counted.
    await uc.expirySweep.sweep();
    await uc.expirySweep.sweep();
    const rows = await uc.db.query(`SELECT status FROM holds WHERE id = ANY($1)`, [ids]);
    assert.deepEqual(
      rows.map((r: { status: string }) => r.status),
      ['expired', 'expired', 'expired'],
    );
    const [{ n }] = await uc.db.query(
      `SELECT count(*)::int AS n FROM outbox WHERE routing_key = 'hold.expired' AND payload->'data'->>'id' = ANY($1)`,
      [ids],
    );
    assert.equal(n, 3);
    assert.deepEqual(await balance(a), { posted: 100n, held: 0n });
  });

  it('a transaction completes at the database’s time, in its row and in its outcome event', async () => {
    const { tenantId, accounts } = await uc.tenantWithAccounts(1);
    const { id } = await uc.accept(tenantId, {
      type: 'deposit',
      destinationAccountId: accounts[0],
      amount: 10n,
      currency: 'USD',
    });
    // The app's clock alone is far off: only the database's time can land within the minute.
    fakeDate(new Date('2001-02-03T04:05:06Z'));
    try {
      await uc.deliver(id);
    } finally {
      jest.useRealTimers();
    }
    const [row] = await uc.db.query(
      `SELECT status, completed_at, abs(extract(epoch FROM now() - completed_at)) < 60 AS recent
         FROM transactions WHERE id = $1`,
      [id],
    );
    assert.deepEqual([row.status, row.recent], ['succeeded', true]);
    const [event] = await uc.db.query(
      `SELECT payload FROM outbox WHERE routing_key = 'transaction.succeeded' AND payload->'data'->>'id' = $1`,
      [id],
    );
    assert.equal(event.payload.data.completedAt, row.completed_at.toISOString());
  });
});
