import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, Stack, createTenant, openDataSource } from '#test-support';

/**
 * Strings Postgres cannot store (OWASP API4, API8): a NUL, which neither text nor jsonb holds, and
 * a UTF-16 surrogate without its pair (jsonb refuses it; text silently stores U+FFFD instead).
 * One of them in a POST /v1/transactions used to fail the group-committed statement it shared
 * with other tenants' requests, which were then written again one by one. Every string that
 * reaches the database — body fields, metadata keys and values, query strings, path ids — is
 * refused at validation (400, the field named) or, for a path id, is no such resource (404).
 */
describe('strings the database cannot store', () => {
  let stack: Stack;
  let api: Api;
  let db: DataSource;
  let account: string;
  let endpoint: string;

  beforeAll(async () => {
    stack = await Stack.start('unstorable', ['gateway'], { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
    api = new Api(stack.url('gateway'), (await createTenant('unstorable')).apiKey);
    db = await openDataSource(2);
    account = await api.account();
    const created = await api.post('/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/hook' });
    assert.equal(created.status, 201, created.text);
    endpoint = created.body.id;
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
  });

  const NUL = 'a\u0000b';
  const HIGH = 'a\ud800b';
  const LOW = '\udc00';
  const key = () => ({ 'idempotency-key': `u-${randomBytes(6).toString('hex')}` });
  const deposit = (extra: Record<string, unknown>) => ({
    type: 'deposit',
    destinationAccountId: account,
    amount: 5,
    currency: 'USD',
    ...extra,
  });

  it('in a body, at any depth, key or value: 400 validation_error naming the field', async () => {
    const cases: [method: string, path: string, body: unknown, field: string][] = [
      ['POST', '/v1/transactions', deposit({ description: NUL }), 'description'],
      ['POST', '/v1/transactions', deposit({ description: HIGH }), 'description'],
      ['POST', '/v1/transactions', deposit({ metadata: { note: LOW } }), 'metadata.note'],
      ['POST', '/v1/transactions', deposit({ metadata: { [NUL]: 'x' } }), 'metadata'],
      ['POST', '/v1/transactions', deposit({ destinationAccountId: NUL }), 'destinationAccountId'],
      ['POST', '/v1/accounts', { currency: 'USD', externalRef: HIGH }, 'externalRef'],
      ['POST', '/v1/accounts', { currency: 'USD', metadata: { k: NUL } }, 'metadata.k'],
      ['POST', '/v1/holds', { accountId: NUL, amount: 5, currency: 'USD' }, 'accountId'],
      ['POST', '/v1/events', { id: 'e-1', type: 'api_call', properties: { p: LOW } }, 'properties.p'],
      ['POST', '/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/x', description: NUL }, 'description'],
      ['PATCH', `/v1/webhook-endpoints/${endpoint}`, { description: HIGH }, 'description'],
    ];
    const before = await db.query(`SELECT count(*)::int AS n FROM transactions`);
    for (const [method, path, body, field] of cases) {
      const res = await api.request(method, path, { body, headers: key() });
      const what = `${method} ${path} ${JSON.stringify(body)} -> ${res.status} ${res.text}`;
      assert.equal(res.status, 400, what);
      assert.equal(res.body.code, 'validation_error', what);
      assert.deepEqual(
        res.body.errors.map((e: { field: string }) => e.field),
        [field],
        what,
      );
    }
    assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM transactions`), before);
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM accounts WHERE external_ref LIKE '%\ufffd%'`,
    );
    assert.equal(n, 0, 'no unpaired surrogate was stored as U+FFFD');
  });

  it('in a batch of events, the event that holds one is rejected alone', async () => {
    const res = await api.post(
      '/v1/events',
      {
        events: [
          { id: `ok-${randomBytes(4).toString('hex')}`, type: 'api_call' },
          { id: `bad-${randomBytes(4).toString('hex')}`, type: 'api_call', properties: { p: NUL } },
        ],
      },
      key(),
    );
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.accepted, 1);
    assert.deepEqual(
      res.body.rejected.map((r: { index: number; code: string }) => [r.index, r.code]),
      [[1, 'validation_error']],
    );
    assert.match(res.body.rejected[0].message, /^properties\.p: /);
  });

  it('in a query string: 400 validation_error; in a path id: 404, without reaching the database', async () => {
    for (const path of [
      `/v1/transactions?accountId=${encodeURIComponent(NUL)}`,
      `/v1/accounts?externalRef=${encodeURIComponent(NUL)}`,
      `/v1/usage?accountId=${encodeURIComponent(NUL)}`,
    ]) {
      const res = await api.get(path);
      assert.equal(res.status, 400, `${path} -> ${res.text}`);
      assert.equal(res.body.code, 'validation_error', path);
    }
    for (const [method, path, code] of [
      ['GET', '/v1/events/a%00b', 'event_not_found'],
      ['GET', '/v1/events/%00', 'event_not_found'],
      ['POST', `/v1/webhook-endpoints/${endpoint}/deliveries/dlv%00/retry`, 'webhook_delivery_not_found'],
    ]) {
      const res = await api.request(method, path);
      assert.equal(res.status, 404, `${method} ${path} -> ${res.text}`);
      assert.equal(res.body.code, code, path);
    }
  });
});
