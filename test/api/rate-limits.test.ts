import assert from 'node:assert/strict';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Api, TcpProxy, createOperator, openDataSource, signIn, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const REDIS_PORT = 6379;
/**
 * Refills slow enough that no token comes back while a test empties a bucket, however loaded the
 * machine: a write every 20 s (the refill test waits for one), a read or an event every 100 s.
 */
const WRITES_PER_SECOND = 0.05;
const lowLimits = {
  RATE_LIMIT_WRITES_BURST: '3',
  RATE_LIMIT_WRITES_PER_SECOND: String(WRITES_PER_SECOND),
  RATE_LIMIT_READS_BURST: '5',
  RATE_LIMIT_READS_PER_SECOND: '0.01',
  RATE_LIMIT_EVENTS_BURST: '2',
  RATE_LIMIT_EVENTS_PER_SECOND: '0.01',
};
/** A slow Redis answer must not count as an outage (which would let a request through). */
const patientRedis = { REDIS_TIMEOUT_MS: '2000' };

const problem = (res: { status: number; headers: Headers; body: { code?: string } }) => ({
  status: res.status,
  type: res.headers.get('content-type')?.split(';')[0],
  code: res.body?.code,
});

/** The sum of a series' samples on an app's /metrics, optionally only those with a label. */
async function metric(url: string, name: string, label = ''): Promise<number> {
  const { text } = await request(url).get('/metrics').expect(200);
  return text
    .split('\n')
    .filter((line) => (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(label))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('rate limits per API key (in-process buckets)', () => {
  let stack: InProcessStack;
  let api: Api;
  let other: Api;

  beforeAll(async () => {
    stack = await InProcessStack.start('ratelimit', ['gateway'], lowLimits);
    api = new Api(stack.url('gateway'), (await newTenant('limited')).apiKey);
    other = new Api(stack.url('gateway'), (await newTenant('neighbour')).apiKey);
  });
  afterAll(() => stack?.stop());

  it('answers 429 rate_limited with Retry-After and the RateLimit headers once the write bucket is empty, and does nothing', async () => {
    const ref = `rl-${randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 3; i++) {
      const ok = await api.post('/v1/accounts', { currency: 'USD', externalRef: `${ref}-${i}` });
      assert.equal(ok.status, 201);
      assert.equal(ok.headers.get('ratelimit-policy'), '"writes";q=3;w=60');
      assert.match(ok.headers.get('ratelimit')!, new RegExp(`^"writes";r=${2 - i};t=\\d+$`));
    }
    const refused = await api.post('/v1/accounts', { currency: 'USD', externalRef: `${ref}-refused` });
    assert.deepEqual(problem(refused), {
      status: 429,
      type: 'application/problem+json',
      code: 'rate_limited',
    });
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(refused.headers.get('ratelimit-policy'), '"writes";q=3;w=60');
    assert.match(refused.headers.get('ratelimit')!, /^"writes";r=0;t=\d+$/);

    const db = await openDataSource(1);
    try {
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM accounts WHERE external_ref LIKE $1`, [
        `${ref}-%`,
      ]);
      assert.equal(n, 3, 'the refused request created nothing');
    } finally {
      await db.destroy();
    }
    assert.ok((await metric(stack.url('gateway'), 'tally_rate_limited_total', 'policy="writes"')) >= 1);
  });

  it('keeps reads, events and other keys in buckets of their own', async () => {
    const reads = await api.get('/v1/accounts');
    assert.equal(reads.status, 200, 'reads have their own bucket');
    assert.equal(reads.headers.get('ratelimit-policy'), '"reads";q=5;w=500');
    assert.equal(
      (await other.post('/v1/accounts', { currency: 'USD' })).status,
      201,
      'another key is untouched',
    );

    const event = () =>
      other.post('/v1/events', {
        id: `e-${randomBytes(6).toString('hex')}`,
        type: 'api_call',
        timestamp: new Date().toISOString(),
      });
    const statuses = [(await event()).status, (await event()).status, (await event()).status];
    assert.notEqual(statuses[0], 429);
    assert.notEqual(statuses[1], 429);
    assert.equal(statuses[2], 429, 'the events bucket holds 2');
  });

  it('refills at the configured rate', async () => {
    // The writes bucket of `api` is empty (a slow run may have seen a token come back: take it).
    let asked: number;
    let refused: Awaited<ReturnType<Api['post']>>;
    do {
      asked = Date.now();
      refused = await api.post('/v1/accounts', { currency: 'USD' });
    } while (refused.status === 201);
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 1 / WRITES_PER_SECOND, `Retry-After ${retryAfter}`);
    await waitFor(
      'a refilled token',
      async () => (await api.post('/v1/accounts', { currency: 'USD' })).status === 201,
      (retryAfter + 30) * 1000,
      250,
    );
    // The token came back when Retry-After said (less the second it rounds up), not sooner.
    assert.ok(Date.now() - asked >= (retryAfter - 1) * 1000, `back after ${Date.now() - asked} ms`);
  });
});

describe('rate limits shared through Redis', () => {
  const keyPrefix = `test-${randomBytes(4).toString('hex')}:`;
  const proxy = new TcpProxy(REDIS_PORT);
  let stack: InProcessStack;
  let second: { url: string };
  let apiKey: string;

  beforeAll(async () => {
    const redisUrl = `redis://127.0.0.1:${await proxy.start()}`;
    const env = {
      ...lowLimits,
      ...patientRedis,
      RATE_LIMIT_WRITES_BURST: '4',
      RATE_LIMIT_WRITES_PER_SECOND: '0.01',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
    };
    stack = await InProcessStack.start('ratelimit-redis', ['gateway'], env);
    second = await stack.startExtra('gateway', env);
    apiKey = (await newTenant('shared limits')).apiKey;
  });
  afterAll(async () => {
    await stack?.stop();
    await proxy.close();
  });

  it('one bucket for every gateway replica', async () => {
    const replicas = [new Api(stack.url('gateway'), apiKey), new Api(second.url, apiKey)];
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await replicas[i % 2].post('/v1/accounts', { currency: 'USD' })).status);
    assert.deepEqual(statuses, [201, 201, 201, 201, 429, 429]);
  });

  it('fails open when Redis is unreachable: requests pass, the failure is counted', async () => {
    const api = new Api(stack.url('gateway'), (await newTenant('redis down')).apiKey);
    const before = await metric(stack.url('gateway'), 'tally_rate_limit_store_failures_total');
    proxy.cut();
    try {
      for (let i = 0; i < 6; i++) {
        const res = await api.post('/v1/accounts', { currency: 'USD' });
        assert.equal(res.status, 201, 'no 429 and no 5xx while the shared store is down');
        assert.equal(res.headers.get('ratelimit'), null, 'no remaining count is claimed without the store');
      }
      assert.ok((await metric(stack.url('gateway'), 'tally_rate_limit_store_failures_total')) >= before + 6);
    } finally {
      proxy.restore();
    }
    await waitFor(
      'limits enforced again once Redis is back',
      async () => (await api.post('/v1/accounts', { currency: 'USD' })).status === 429,
      15_000,
    );
  });
});

describe('admin sign-in attempts', () => {
  let stack: InProcessStack;
  const password = 'correct horse battery staple';
  const email = `root-${randomBytes(3).toString('hex')}@tally.test`;

  beforeAll(async () => {
    stack = await InProcessStack.start('login-limits', ['admin'], {
      ADMIN_EMAIL: email,
      ADMIN_PASSWORD: password,
      ADMIN_LOGIN_MAX_FAILURES: '3',
      ADMIN_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: '8',
    });
  });
  afterAll(() => stack?.stop());

  const login = (email: string, pass: string) =>
    request(stack.url('admin')).post('/admin/api/auth/login').send({ email, password: pass });

  it('locks an account after repeated wrong passwords, even for the right one, and not other accounts', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await login(email, 'wrong password!')).status, 401);
    const locked = await login(email, password);
    assert.equal(locked.status, 429);
    assert.match(locked.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal((locked.body as { code: string }).code, 'rate_limited');
    assert.ok(Number(locked.headers['retry-after']) >= 1);
    assert.equal(
      (await login('nobody@tally.test', 'whatever it is')).status,
      401,
      'another account is not locked',
    );
  });

  it('limits attempts from one address across accounts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await login(`spray${i}@tally.test`, 'guess guess guess')).status);
    // 8 per minute from this address, 5 already spent above.
    assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
  });
});

describe('admin sign-in: simultaneous guesses (attack: guessing faster than the count)', () => {
  const proxy = new TcpProxy(REDIS_PORT);
  let stack: InProcessStack;
  let inProcess: { url: string };

  beforeAll(async () => {
    const limits = { ADMIN_LOGIN_MAX_FAILURES: '5', ADMIN_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: '100000' };
    stack = await InProcessStack.start('login-race', ['admin'], {
      ...limits,
      ...patientRedis,
      REDIS_URL: `redis://127.0.0.1:${await proxy.start()}`,
      REDIS_KEY_PREFIX: `test-${randomBytes(4).toString('hex')}:`,
    });
    // The same limits without Redis: buckets in the process only.
    inProcess = await stack.startExtra('admin', { ...limits, REDIS_URL: '' });
  });
  afterAll(async () => {
    await stack?.stop();
    await proxy.close();
  });

  /** 30 wrong passwords for one operator sent at once, and the right one after them. */
  const race = async (adminUrl: string) => {
    const { email, password } = await createOperator('operator');
    const attempt = (pass: string) =>
      fetch(`${adminUrl}/admin/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: pass }),
      }).then((r) => r.status);
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(`wrong guess ${i}`)));
    return {
      wrong: statuses.filter((s) => s === 401).length,
      limited: statuses.filter((s) => s === 429).length,
      rightPassword: await attempt(password),
    };
  };

  it('lets exactly 5 of 30 simultaneous wrong passwords be checked (buckets in Redis)', async () => {
    assert.deepEqual(await race(stack.url('admin')), { wrong: 5, limited: 25, rightPassword: 429 });
  });

  it('lets exactly 5 of 30 simultaneous wrong passwords be checked (buckets in the process)', async () => {
    assert.deepEqual(await race(inProcess.url), { wrong: 5, limited: 25, rightPassword: 429 });
  });

  it('keeps the limit in the process while Redis is unreachable, and counts the outage', async () => {
    const before = await metric(stack.url('admin'), 'tally_rate_limit_store_failures_total');
    proxy.cut();
    try {
      assert.deepEqual(await race(stack.url('admin')), { wrong: 5, limited: 25, rightPassword: 429 });
      assert.ok((await metric(stack.url('admin'), 'tally_rate_limit_store_failures_total')) > before);
    } finally {
      proxy.restore();
    }
  });

  it('a right password gives its attempt back: signing in often never locks an account', async () => {
    const { email, password } = await createOperator('viewer');
    for (let i = 0; i < 8; i++) await signIn(stack.url('admin'), email, password);
  });
});

describe('admin sign-in behind a proxy (HTTP_TRUST_PROXY=true)', () => {
  let stack: InProcessStack;
  beforeAll(async () => {
    stack = await InProcessStack.start('login-proxy', ['admin'], {
      HTTP_TRUST_PROXY: 'true',
      ADMIN_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: '2',
    });
  });
  afterAll(() => stack?.stop());

  it('counts attempts per client address from X-Forwarded-For, not per proxy', async () => {
    const attempt = (address: string) =>
      request(stack.url('admin'))
        .post('/admin/api/auth/login')
        .set('x-forwarded-for', address)
        .send({ email: `${randomBytes(3).toString('hex')}@tally.test`, password: 'guess guess' })
        .then((r) => r.status);
    assert.deepEqual(
      [await attempt('203.0.113.7'), await attempt('203.0.113.7'), await attempt('203.0.113.7')],
      [401, 401, 429],
    );
    assert.equal(await attempt('198.51.100.9'), 401, 'another client behind the same proxy is not limited');
  });
});
