import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Api, Stack, createTenant, waitFinal } from '#test-support';

describe('guarantees under concurrency', () => {
  let stack: Stack;
  let api: Api;

  beforeAll(async () => {
    stack = await Stack.start('concurrency', ['gateway', 'transaction-worker']);
    api = new Api(stack.url('gateway'), (await createTenant('Concurrent')).apiKey);
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('no double spend: 100 concurrent withdrawals of 10 from 500 ⇒ exactly 50 succeed, 50 fail, balance 0', async () => {
    const account = await api.account();
    await api.deposit(account, 500);
    const accepted = await Promise.all(
      Array.from({ length: 100 }, () =>
        api.transact({ type: 'withdrawal', sourceAccountId: account, amount: 10, currency: 'USD' }, 30),
      ),
    );
    assert.ok(accepted.every((r) => r.status === 200 || r.status === 202));
    const final = await Promise.all(accepted.map((r) => waitFinal(api, r.body.id)));
    const succeeded = final.filter((t) => t.status === 'succeeded');
    const failed = final.filter((t) => t.status === 'failed');
    assert.equal(succeeded.length, 50);
    assert.equal(failed.length, 50);
    assert.ok(failed.every((t) => t.failure.code === 'insufficient_funds'));
    assert.deepEqual((await api.get(`/v1/accounts/${account}`)).body.balance, {
      posted: 0,
      held: 0,
      available: 0,
    });
  });

  it('no deadlock, no money made or lost: 200 concurrent transfers in both directions all succeed', async () => {
    const a = await api.account();
    const b = await api.account();
    await api.deposit(a, 10_000);
    await api.deposit(b, 10_000);
    const amounts = Array.from({ length: 200 }, (_, i) => 1 + ((i * 7) % 50));
    const accepted = await Promise.all(
      amounts.map((amount, i) =>
        api.transact(
          {
            type: 'transfer',
            sourceAccountId: i % 2 ? a : b,
            destinationAccountId: i % 2 ? b : a,
            amount,
            currency: 'USD',
          },
          30,
        ),
      ),
    );
    assert.deepEqual(
      accepted.filter((r) => r.status !== 200 && r.status !== 202).map((r) => r.text),
      [],
    );
    const final = await Promise.all(accepted.map((r) => waitFinal(api, r.body.id)));
    assert.deepEqual(
      final.filter((t) => t.status !== 'succeeded').map((t) => t.failure),
      [],
    );
    const balanceA = (await api.get(`/v1/accounts/${a}`)).body.balance.posted;
    const balanceB = (await api.get(`/v1/accounts/${b}`)).body.balance.posted;
    assert.equal(balanceA + balanceB, 20_000);
    const net = amounts.reduce((sum, amount, i) => sum + (i % 2 ? -amount : amount), 0);
    assert.equal(balanceA, 10_000 + net);
  });
});
