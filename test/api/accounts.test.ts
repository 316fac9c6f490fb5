import assert from 'node:assert/strict';
import { types } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { Api, openDataSource, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const PROBLEM = /^application\/problem\+json/;

describe('API: authentication and accounts', () => {
  let stack: InProcessStack;
  let api: Api;
  let other: Api;
  let db: DataSource;

  beforeAll(async () => {
    stack = await InProcessStack.start('accounts', ['gateway']);
    api = new Api(stack.url('gateway'), (await newTenant('Acme')).apiKey);
    other = new Api(stack.url('gateway'), (await newTenant('Globex')).apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await stack.stop();
    await db.destroy();
  });

  describe('authentication', () => {
    it('a missing, malformed or unknown key is a 401 problem, never a 500', async () => {
      for (const authorization of [
        undefined,
        'Bearer',
        'Basic abc',
        'Bearer tk_nope',
        `Bearer tk_${'A'.repeat(32)}`,
      ]) {
        const res = await request(stack.url('gateway'))
          .get('/v1/accounts')
          .set(authorization ? { authorization } : {})
          .expect(401)
          .expect('content-type', PROBLEM);
        const body = res.body as { code: string; requestId: string; status: number };
        assert.equal(body.code, 'unauthorized', String(authorization));
        assert.equal(body.status, 401);
        assert.equal(body.requestId, res.headers['x-request-id']);
      }
    });

    it('a revoked key stops working', async () => {
      const tenant = await newTenant('Soon revoked');
      const revoked = new Api(stack.url('gateway'), tenant.apiKey);
      assert.equal((await revoked.get('/v1/accounts')).status, 200);
      await db.query(`UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1`, [tenant.tenantId]);
      // The guard caches a lookup for at most 5 seconds.
      const deadline = Date.now() + 8_000;
      let status = 200;
      while (status === 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        status = (await revoked.get('/v1/accounts')).status;
      }
      assert.equal(status, 401);
    });

    it('records when a key was last used, and stores only its hash', async () => {
      const tenant = await newTenant('Hashes');
      await new Api(stack.url('gateway'), tenant.apiKey).get('/v1/accounts');
      // The guard records the use after answering (the test used to be slower than that).
      const row = await waitFor('the key to be marked used', async () => {
        const [key] = await db.query(
          `SELECT prefix, key_hash, last_used_at FROM api_keys WHERE tenant_id = $1`,
          [tenant.tenantId],
        );
        return key.last_used_at !== null && key;
      });
      // pg is loaded outside Jest's VM context: its Date is not this file's `Date`.
      assert.ok(types.isDate(row.last_used_at));
      assert.equal(row.key_hash.length, 32);
      assert.ok(tenant.apiKey.startsWith(row.prefix));
      const [{ found }] = await db.query(
        `SELECT count(*)::int AS found FROM api_keys WHERE position(convert_to($1, 'UTF8') in key_hash) > 0 OR prefix = $1`,
        [tenant.apiKey],
      );
      assert.equal(found, 0, 'the plaintext key is not stored');
    });
  });

  describe('accounts', () => {
    it('POST /v1/accounts creates an account: 201, Location, the documented shape', async () => {
      const res = await api.post('/v1/accounts', {
        currency: 'CREDITS',
        externalRef: 'user-1',
        metadata: { plan: 'pro', seats: 3, trial: false, ratio: 0.5 },
        lowBalanceThreshold: 100,
      });
      assert.equal(res.status, 201);
      assert.match(res.body.id, /^acc_[0-9A-Z]{26}$/);
      assert.equal(res.headers.get('location'), `/v1/accounts/${res.body.id}`);
      assert.deepEqual(
        { ...res.body, id: undefined, createdAt: undefined },
        {
          id: undefined,
          currency: 'CREDITS',
          externalRef: 'user-1',
          status: 'active',
          balance: { posted: 0, held: 0, available: 0 },
          lowBalanceThreshold: 100,
          metadata: { plan: 'pro', seats: 3, trial: false, ratio: 0.5 },
          createdAt: undefined,
        },
      );
      assert.ok(!Number.isNaN(Date.parse(res.body.createdAt)));
      const fetched = await api.get(`/v1/accounts/${res.body.id}`);
      assert.equal(fetched.status, 200);
      assert.deepEqual(fetched.body, res.body);
    });

    it('externalRef is unique per tenant: 409 external_ref_taken (another tenant may use it)', async () => {
      assert.equal((await api.post('/v1/accounts', { currency: 'USD', externalRef: 'dup' })).status, 201);
      const again = await api.post('/v1/accounts', { currency: 'USD', externalRef: 'dup' });
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'external_ref_taken');
      assert.equal((await other.post('/v1/accounts', { currency: 'USD', externalRef: 'dup' })).status, 201);
    });

    it("another tenant's account, and ids that cannot exist, answer 404 account_not_found", async () => {
      const mine = await api.account();
      for (const path of [`/v1/accounts/${mine}`, `/v1/accounts/${mine}/entries`]) {
        const res = await other.get(path);
        assert.equal(res.status, 404);
        assert.equal(res.body.code, 'account_not_found');
      }
      for (const id of ['acc_00000000000000000000000000', 'nope', '%00', "1' OR '1'='1"]) {
        const res = await api.get(`/v1/accounts/${encodeURIComponent(id)}`);
        assert.equal(res.status, 404, id);
        assert.match(res.headers.get('content-type') ?? '', PROBLEM);
      }
    });

    it('GET /v1/accounts?externalRef= finds it; pages are newest first with a cursor', async () => {
      const tenant = new Api(stack.url('gateway'), (await newTenant('Pages')).apiKey);
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await tenant.account({ currency: 'EUR', externalRef: `p${i}` }));
      const byRef = await tenant.get('/v1/accounts?externalRef=p3');
      assert.deepEqual(
        byRef.body.data.map((a: { id: string }) => a.id),
        [ids[3]],
      );
      assert.equal(byRef.body.nextCursor, null);

      const first = await tenant.get('/v1/accounts?limit=2');
      assert.deepEqual(
        first.body.data.map((a: { id: string }) => a.id),
        [ids[4], ids[3]],
      );
      const second = await tenant.get(`/v1/accounts?limit=2&cursor=${first.body.nextCursor}`);
      assert.deepEqual(
        second.body.data.map((a: { id: string }) => a.id),
        [ids[2], ids[1]],
      );
      const third = await tenant.get(`/v1/accounts?limit=2&cursor=${second.body.nextCursor}`);
      assert.deepEqual(
        third.body.data.map((a: { id: string }) => a.id),
        [ids[0]],
      );
      assert.equal(third.body.nextCursor, null);
      assert.equal((await tenant.get('/v1/accounts')).body.data.length, 5, 'default limit 20');
    });

    it('bad list parameters are 400 validation_error', async () => {
      for (const query of ['limit=0', 'limit=101', 'limit=abc', 'limit=1.5', 'cursor=garbage', 'unknown=1']) {
        const res = await api.get(`/v1/accounts?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(res.body.code, 'validation_error', query);
      }
    });

    it('bad bodies are 400 with the fields named, and create nothing', async () => {
      const cases: [unknown, string][] = [
        [{}, 'currency'],
        [{ currency: 'usd' }, 'currency'],
        [{ currency: 'US' }, 'currency'],
        [{ currency: 'USD', color: 'red' }, '(body)'],
        [{ currency: 'USD', lowBalanceThreshold: -1 }, 'lowBalanceThreshold'],
        [{ currency: 'USD', lowBalanceThreshold: 1.5 }, 'lowBalanceThreshold'],
        [{ currency: 'USD', metadata: { nested: { a: 1 } } }, 'metadata.nested'],
        [
          {
            currency: 'USD',
            metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])),
          },
          'metadata',
        ],
        [{ currency: 'USD', externalRef: '' }, 'externalRef'],
      ];
      const [{ before }] = await db.query(`SELECT count(*)::int AS before FROM accounts`);
      for (const [body, field] of cases) {
        const res = await api.post('/v1/accounts', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.code, 'validation_error');
        assert.ok(
          res.body.errors.some((e: { field: string }) => e.field === field),
          `${JSON.stringify(body)} names ${field}: ${JSON.stringify(res.body.errors)}`,
        );
      }
      const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM accounts`);
      assert.equal(count, before);
    });

    it('non-JSON is 400, another content type 415, a body over 64 KiB 413', async () => {
      const notJson = await api.request('POST', '/v1/accounts', {
        raw: '{"currency":',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(notJson.status, 400);
      assert.equal(notJson.body.code, 'invalid_json');
      const text = await api.request('POST', '/v1/accounts', {
        raw: 'currency=USD',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(text.status, 415);
      assert.equal(text.body.code, 'unsupported_media_type');
      const form = await api.request('POST', '/v1/accounts', {
        raw: 'currency=USD',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(form.status, 415);
      const big = await api.post('/v1/accounts', { currency: 'USD', metadata: { a: 'x'.repeat(70_000) } });
      assert.equal(big.status, 413);
      assert.equal(big.body.code, 'payload_too_large');
      assert.match(big.headers.get('content-type') ?? '', PROBLEM);
    });

    it('unknown routes are 404 problems; X-Request-Id is echoed into the problem', async () => {
      const res = await api.request('GET', '/v1/nothing-here', { headers: { 'x-request-id': 'trace-me-1' } });
      assert.equal(res.status, 404);
      assert.equal(res.body.code, 'not_found');
      assert.equal(res.body.requestId, 'trace-me-1');
      assert.equal(res.headers.get('x-request-id'), 'trace-me-1');
    });
  });
});
