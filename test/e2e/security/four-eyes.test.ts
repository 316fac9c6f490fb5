import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, Stack, createTenant, openDataSource, signedInOperator, waitFinal } from '#test-support';

/**
 * Attacks on the four-eyes rule for balance adjustments (threshold 1000 here): one operator
 * moving money past the threshold without a second operator, by splitting, by racing, or by
 * re-running failed transactions.
 */
describe('four eyes on adjustments (attacks)', () => {
  let stack: Stack;
  let api: Api;
  let db: DataSource;

  /** An operator of its own per test, so rolling totals never mix. */
  const operator = async () => {
    const token = await signedInOperator(stack.url('admin'), 'operator');
    return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(stack.url('admin') + '/admin/api' + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
  };
  type Operator = Awaited<ReturnType<typeof operator>>;
  const adjust = (as: Operator, account: string, direction: 'credit' | 'debit', amount: number) =>
    as(
      'POST',
      `/accounts/${account}/adjustments`,
      { direction, amount, reason: 'attack attempt' },
      { 'idempotency-key': randomBytes(8).toString('hex') },
    );
  const posted = async (account: string) => (await api.get(`/v1/accounts/${account}`)).body.balance.posted;

  beforeAll(async () => {
    stack = await Stack.start('foureyes', ['gateway', 'transaction-worker', 'admin'], {
      ADMIN_ADJUSTMENT_APPROVAL_THRESHOLD: '1000',
    });
    api = new Api(stack.url('gateway'), (await createTenant('Four eyes')).apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack.stop();
  });

  it('splitting: adjustments just under the threshold add up, and past it they wait for approval', async () => {
    const mallory = await operator();
    const account = await api.account();
    const answers = [];
    for (let i = 0; i < 50; i++) answers.push(await adjust(mallory, account, 'credit', 999));
    assert.deepEqual(
      answers.map((a) => [a.status, a.body.status]),
      [[202, 'executed'], ...Array(49).fill([202, 'pending_approval'])],
    );
    await waitFinal(api, answers[0].body.transactionId);
    assert.equal(await posted(account), 999, 'one operator alone moved at most the threshold');
  });

  it('racing: fifty adjustments sent at once by one operator cannot all count themselves under it', async () => {
    const mallory = await operator();
    const account = await api.account();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => adjust(mallory, account, 'credit', 100)),
    );
    assert.ok(answers.every((a) => a.status === 202));
    const executed = answers.filter((a) => a.body.status === 'executed');
    assert.equal(executed.length, 10, '10 × 100 fit in 1000; the other 40 wait');
    for (const a of executed) await waitFinal(api, a.body.transactionId);
    assert.equal(await posted(account), 1000);
  });

  it('re-running a failed adjustment needs the approval the original needed', async () => {
    const [mallory, accomplice] = [await operator(), await operator()];
    const account = await api.account();
    // Approved by a second operator, then failed (nothing to debit).
    const large = await adjust(mallory, account, 'debit', 5000);
    assert.equal(large.body.status, 'pending_approval');
    const approved = await accomplice('POST', `/adjustments/${large.body.id}/approve`);
    assert.equal(approved.status, 202);
    assert.equal((await waitFinal(api, approved.body.transactionId)).status, 'failed');
    await api.deposit(account, 6000);

    const rerun = await mallory('POST', `/transactions/${approved.body.transactionId}/rerun`, {
      reason: 'funds arrived',
    });
    assert.equal(rerun.status, 202, JSON.stringify(rerun.body));
    assert.deepEqual([rerun.body.status, rerun.body.transactionId], ['pending_approval', null]);
    const self = await mallory('POST', `/adjustments/${rerun.body.id}/approve`);
    assert.equal(self.status, 403);
    assert.equal(await posted(account), 6000, 'nothing moved without a second operator');
    const second = await accomplice('POST', `/adjustments/${rerun.body.id}/approve`);
    assert.equal(second.status, 202);
    assert.equal((await waitFinal(api, second.body.transactionId)).status, 'succeeded');
    assert.equal(await posted(account), 1000);
  });

  it('re-running a small failed adjustment counts towards the rolling total', async () => {
    const mallory = await operator();
    const account = await api.account();
    const failed = await adjust(mallory, account, 'debit', 600); // executed, fails: nothing to debit
    assert.equal((await waitFinal(api, failed.body.transactionId)).status, 'failed');
    const rerun = await mallory('POST', `/transactions/${failed.body.transactionId}/rerun`, {
      reason: 'again please',
    });
    assert.equal(rerun.status, 202, JSON.stringify(rerun.body));
    assert.equal(rerun.body.status, 'pending_approval', '600 + 600 is past 1000');
  });

  it('a transaction is re-run once: ten operators at the same moment ⇒ one re-run, nine 409', async () => {
    const account = await api.account();
    const failed = await waitFinal(
      api,
      (await api.transact({ type: 'withdrawal', sourceAccountId: account, amount: 40, currency: 'USD' })).body
        .id,
    );
    assert.equal(failed.status, 'failed');
    await api.deposit(account, 1000);
    const operators = await Promise.all(Array.from({ length: 10 }, () => operator()));
    const answers = await Promise.all(
      operators.map((as) => as('POST', `/transactions/${failed.id}/rerun`, { reason: 'race' })),
    );
    assert.deepEqual(answers.map((a) => a.status).sort(), [202, ...Array(9).fill(409)]);
    assert.ok(answers.filter((a) => a.status === 409).every((a) => a.body.code === 'already_rerun'));
    const rerun = answers.find((a) => a.status === 202)!.body;
    assert.equal((await waitFinal(api, rerun.id)).status, 'succeeded');
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM transactions WHERE metadata->>'rerunOf' = $1`,
      [failed.id],
    );
    assert.equal(n, 1);
    assert.equal(await posted(account), 960, 'the withdrawal happened once');
    const later = await operators[0]('POST', `/transactions/${failed.id}/rerun`, { reason: 'once more' });
    assert.deepEqual([later.status, later.body.code], [409, 'already_rerun']);
  });
});
