import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, jest } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { generateApiKey, hashApiKey } from '#domain';
import { ApiKeyGuard } from '../../apps/gateway/src/auth/api-key.guard.js';
import { fakeDate } from '../support/jest/fake-date.js';
import type { GatewayRateLimits } from '../../apps/gateway/src/auth/rate-limits.js';

// The guard's key cache, with the key lookup counted (the query itself is covered end to end).
describe('API key cache', () => {
  const key = generateApiKey().plaintext;
  let queries: number;
  /** Lookups of `key` itself, apart from those of other keys. */
  let lookupsOfKey: number;
  let answer: () => Promise<{ id: string; tenant_id: string }[]>;
  let guard: ApiKeyGuard;

  const lookUp = (hash: Buffer) => {
    queries++;
    if (hash.equals(hashApiKey(key))) lookupsOfKey++;
    else return new Promise<never[]>((resolve) => setImmediate(() => resolve([])));
    return new Promise<{ id: string; tenant_id: string }[]>((resolve, reject) =>
      setImmediate(() => answer().then(resolve, reject)),
    );
  };
  const authenticate = (headers = { authorization: `Bearer ${key}` }) => {
    const request: { headers: Record<string, string>; tenant?: { tenantId: string } } = { headers };
    const context = {
      switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}) }),
    } as unknown as ExecutionContext;
    return guard.canActivate(context).then(() => request.tenant?.tenantId);
  };
  const many = (n: number) => Promise.allSettled(Array.from({ length: n }, () => authenticate()));
  const tenants = (results: PromiseSettledResult<string | undefined>[]) =>
    results.map((r) =>
      r.status === 'fulfilled' ? r.value : `refused ${(r.reason as { status?: number }).status}`,
    );
  const settle = () => new Promise((r) => setImmediate(() => setImmediate(r)));

  beforeEach(() => {
    fakeDate(1_000_000);
    queries = 0;
    lookupsOfKey = 0;
    answer = async () => [{ id: 'key_1', tenant_id: 'ten_1' }];
    const dataSource = {
      query: (sql: string, params: unknown[]) =>
        sql.startsWith('SELECT') ? lookUp(params[0] as Buffer) : Promise.resolve([]),
    };
    const rateLimits = { enforce: async () => undefined };
    guard = new ApiKeyGuard(dataSource as unknown as DataSource, rateLimits as unknown as GatewayRateLimits);
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('requests that find no entry share one lookup', async () => {
    assert.deepEqual(tenants(await many(20)), Array(20).fill('ten_1'));
    assert.equal(queries, 1);
    await many(20);
    assert.equal(queries, 1, 'then served from the cache');
  });

  it('a key in use is looked up again once, in the background, before its entry expires', async () => {
    await many(1);
    jest.advanceTimersByTime(4_500);
    assert.deepEqual(tenants(await many(10)), Array(10).fill('ten_1'), 'answered from the entry');
    assert.equal(queries, 2, 'one refresh for the ten');
    await settle();
    jest.advanceTimersByTime(4_000); // past the first entry's expiry: the refreshed one serves
    await many(10);
    assert.equal(queries, 2);
  });

  it('an expired entry is looked up once for all the requests waiting on it', async () => {
    await many(1);
    jest.advanceTimersByTime(5_001);
    await many(20);
    assert.equal(queries, 2);
  });

  it('a revoked key stops working when its entry expires', async () => {
    await many(1);
    answer = async () => [];
    jest.advanceTimersByTime(4_500);
    assert.deepEqual(tenants(await many(1)), ['ten_1'], 'still cached while the refresh runs');
    await settle();
    assert.deepEqual(tenants(await many(3)), Array(3).fill('refused 401'), 'the refresh saw the revocation');
    jest.advanceTimersByTime(5_001);
    assert.deepEqual(tenants(await many(3)), Array(3).fill('refused 401'));
  });

  it('a failed lookup fails the requests waiting on it and is tried again by the next', async () => {
    answer = async () => {
      throw new Error('connection lost');
    };
    const failed = await many(5);
    assert.ok(
      failed.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'connection lost'),
    );
    assert.equal(queries, 1);
    answer = async () => [{ id: 'key_1', tenant_id: 'ten_1' }];
    assert.deepEqual(tenants(await many(5)), Array(5).fill('ten_1'));
    assert.equal(queries, 2);
  });

  it('a failed refresh leaves the entry serving until it expires, then the next lookup decides', async () => {
    await many(1);
    answer = async () => {
      throw new Error('connection lost');
    };
    jest.advanceTimersByTime(4_500);
    assert.deepEqual(tenants(await many(1)), ['ten_1']);
    await settle();
    answer = async () => [{ id: 'key_1', tenant_id: 'ten_1' }];
    await many(1);
    assert.equal(queries, 3, 'the next request in the window refreshes again');
  });

  it('a made-up key is remembered as unknown for a while: sent again, it costs no lookup', async () => {
    const madeUp = generateApiKey().plaintext;
    const refused = () => authenticate({ authorization: `Bearer ${madeUp}` }).catch((e) => e.status);
    assert.deepEqual([await refused(), await refused(), await refused()], [401, 401, 401]);
    assert.equal(queries, 1);
  });

  it('a flood of made-up keys pushes out no valid key: they are remembered apart, each bounded', async () => {
    assert.deepEqual(tenants(await many(1)), ['ten_1']);
    const flood = Array.from({ length: 25_000 }, () => generateApiKey().plaintext);
    for (let i = 0; i < flood.length; i += 1_000) {
      const refused = await Promise.allSettled(
        flood.slice(i, i + 1_000).map((k) => authenticate({ authorization: `Bearer ${k}` })),
      );
      assert.ok(refused.every((r) => r.status === 'rejected'));
    }
    assert.deepEqual(tenants(await many(5)), Array(5).fill('ten_1'));
    assert.equal(lookupsOfKey, 1, 'the valid key is still served from the cache');
    // The made-up keys are bounded: the first of the flood has been forgotten since.
    const before = queries;
    await authenticate({ authorization: `Bearer ${flood[0]}` }).catch(() => undefined);
    assert.equal(queries, before + 1);
  });
});
