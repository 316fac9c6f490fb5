import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { MAX_AMOUNT } from '#domain';
import { Api, send, signedInOperator } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

/** The admin API's DTO classes and its one error mapper, as a client sees them. */
describe('admin API: inputs and errors', () => {
  let stack: InProcessStack;
  let api: Api;
  let admin: string;
  let operator: string;

  /** `raw` is sent as written, so that numbers the JSON encoder would change reach the app. */
  const call = (method: string, path: string, raw?: string, token = operator, headers = {}) =>
    send(
      stack.url('admin'),
      method,
      path,
      {
        authorization: `Bearer ${token}`,
        ...(raw !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      raw,
    );
  const fields = (res: { body: { errors?: { field: string }[] } }) => res.body.errors?.map((e) => e.field);

  beforeAll(async () => {
    // Every adjustment waits for approval: the test looks at requests, not at money moving.
    stack = await InProcessStack.start('admininputs', ['gateway', 'admin'], {
      ADMIN_ADJUSTMENT_APPROVAL_THRESHOLD: '0',
    });
    api = new Api(stack.url('gateway'), (await newTenant('Inputs')).apiKey);
    admin = await signedInOperator(stack.url('admin'), 'admin');
    operator = await signedInOperator(stack.url('admin'), 'operator');
  });
  afterAll(() => stack?.stop());

  it('an operator email already taken (case aside) is 409 operator_exists, not a 500', async () => {
    const body = (email: string) => JSON.stringify({ email, password: 'a long password!', role: 'viewer' });
    const first = await call('POST', '/admin/api/operators', body('twice@tally.test'), admin);
    assert.equal(first.status, 201, first.text);
    const again = await call('POST', '/admin/api/operators', body('Twice@Tally.test'), admin);
    assert.deepEqual([again.status, again.body.code], [409, 'operator_exists'], again.text);
  });

  it('an adjustment takes its amount as a JSON integer or its digits; anything else is refused, naming amount', async () => {
    const account = await api.account();
    const adjust = (amount: string) =>
      call(
        'POST',
        `/admin/api/accounts/${account}/adjustments`,
        `{"direction":"credit","amount":${amount},"reason":"amount forms"}`,
        operator,
        { 'idempotency-key': `a-${Math.random().toString(36).slice(2)}` },
      );
    // The dashboard sends what an operator typed, as text; programs send numbers, exactly.
    for (const amount of ['25', '"25"', String(MAX_AMOUNT), `"${MAX_AMOUNT}"`]) {
      const res = await adjust(amount);
      assert.deepEqual([res.status, res.body.status], [202, 'pending_approval'], `${amount}: ${res.text}`);
    }
    for (const amount of [
      '2.5',
      '25.0',
      '"2.5"',
      '" 25"',
      '"025"',
      '0',
      '"0"',
      '-5',
      '1000000000000000001',
      'true',
      '[25]',
    ]) {
      const res = await adjust(amount);
      assert.equal(res.status, 400, `${amount}: ${res.text}`);
      assert.deepEqual([res.body.code, fields(res)], ['validation_error', ['amount']], amount);
    }
  });

  it('errors name each bad field, nested ones dotted; unknown fields and non-object bodies are refused', async () => {
    const nested = await call(
      'POST',
      '/admin/api/dead-letters/replay',
      JSON.stringify({ filter: { status: 'lost', extra: 1 }, reason: 'nested fields' }),
    );
    assert.equal(nested.status, 400, nested.text);
    assert.deepEqual(fields(nested)?.sort(), ['filter.extra', 'filter.status']);
    const query = await call('GET', '/admin/api/audit?limit=0&colour=red');
    assert.equal(query.status, 400, query.text);
    assert.deepEqual(fields(query)?.sort(), ['colour', 'limit']);
    // 9007199254740993: past 2^53, parsed as a bigint, which class-transformer threw on (500).
    for (const raw of ['[]', '"tenant"', '42', 'null', '9007199254740993', '-174929673581162340']) {
      const res = await call('POST', '/admin/api/tenants', raw);
      assert.deepEqual([res.status, res.body.code], [400, 'validation_error'], `${raw}: ${res.text}`);
    }
    const reason = await call(
      'POST',
      '/admin/api/accounts/acc_x/freeze',
      JSON.stringify({ reason: '   ab   ' }),
    );
    assert.deepEqual(
      [reason.status, fields(reason)],
      [400, ['reason']],
      'a reason is trimmed before it is measured',
    );
    const window = await call(
      'POST',
      '/admin/api/usage/rebill',
      JSON.stringify({
        tenantId: 'ten_x',
        from: '2026-01-02T00:00:00Z',
        to: '2026-01-01T00:00:00Z',
        reason: 'backwards',
      }),
    );
    assert.deepEqual([window.status, fields(window)], [400, ['to']], window.text);
  });

  it("problems read like the gateway's: the type names the code, the title the status", async () => {
    const res = await call('GET', '/admin/api/transactions/txn_nope');
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.deepEqual(
      { ...res.body, requestId: undefined },
      {
        type: 'https://tally.dev/problems/not_found',
        title: 'Not Found',
        status: 404,
        detail: 'Transaction txn_nope does not exist.',
        code: 'not_found',
        requestId: undefined,
      },
    );
    assert.equal(res.body.requestId, res.headers.get('x-request-id'));
  });
});
