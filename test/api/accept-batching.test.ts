import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Api, inParallel, waitFinal } from '#test-support';
import { InProcessStack, newTenant, verifiedLedger } from '../support/in-process.js';

/** Accepts are written in groups (AcceptBatcher): each request must still stand on its own. */
describe('group commit of accepts', () => {
  let stack: InProcessStack;
  let api: Api;

  beforeAll(async () => {
    stack = await InProcessStack.start('batching', ['gateway', 'transaction-worker']);
    api = new Api(stack.url('gateway'), (await newTenant('batched')).apiKey);
  });
  afterAll(() => stack?.stop());

  it('a value Postgres cannot store fails alone, at validation; the requests sent with it are accepted once', async () => {
    const account = await api.account();
    const poisoned = 17;
    const deposit = (i: number) =>
      api.post(
        '/v1/transactions',
        {
          type: 'deposit',
          destinationAccountId: account,
          amount: 10,
          currency: 'USD',
          // Postgres cannot store a NUL in jsonb: refused before it could fail a batch statement.
          ...(i === poisoned ? { metadata: { note: 'nul\u0000here' } } : {}),
        },
        { 'idempotency-key': `batch-${i}` },
      );
    const answers = await inParallel(40, 40, deposit);
    assert.equal(answers[poisoned].status, 400, answers[poisoned].text);
    assert.equal(answers[poisoned].body.code, 'validation_error');
    assert.deepEqual(
      answers[poisoned].body.errors.map((e: { field: string }) => e.field),
      ['metadata.note'],
    );
    const accepted = answers.filter((_, i) => i !== poisoned);
    assert.ok(
      accepted.every((a) => a.status === 202),
      JSON.stringify(accepted.map((a) => a.status)),
    );
    for (const a of accepted) assert.equal((await waitFinal(api, a.body.id)).status, 'succeeded');
    assert.equal((await api.get(`/v1/accounts/${account}`)).body.balance.posted, 390);
    // The same requests again, in parallel: the same answers, nothing new (the refused one is
    // refused again: a request refused at validation is not remembered under its key).
    const replays = await inParallel(40, 40, deposit);
    assert.equal(replays[poisoned].status, 400);
    replays.forEach((r, i) => {
      if (i === poisoned) return;
      assert.equal(r.status, 202);
      assert.equal(r.headers.get('idempotent-replayed'), 'true');
      assert.equal(r.body.id, answers[i].body.id);
    });
    assert.equal((await api.get(`/v1/accounts/${account}`)).body.balance.posted, 390);
    const verify = await verifiedLedger();
    assert.ok(verify.ok, verify.report);
  });
});
