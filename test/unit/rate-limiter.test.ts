import assert from 'node:assert/strict';
import { Logger, type LoggerService } from '@nestjs/common';
import { describe, it } from '@jest/globals';
import {
  MemoryBucketStore,
  RateLimiter,
  RedisBucketStore,
  rateLimitHeaders,
  type BucketPolicy,
  type BucketStore,
} from '#http';
import { freePort } from '../support/app-process.js';

const policy: BucketPolicy = { name: 'test', capacity: 3, refillPerSecond: 0.001 };

/** A store that is down (Redis unreachable). */
const down: BucketStore = {
  take: () => Promise.reject(new Error('connection refused')),
  close: () => Promise.resolve(),
};

const allowed = async (limiter: RateLimiter, times: number) => {
  const decisions = [];
  for (let i = 0; i < times; i++) decisions.push((await limiter.take('k', policy)).allowed);
  return decisions;
};

describe('rate limiter', () => {
  it('without a fallback, fails open while the store is down, and counts each failure', async () => {
    let failures = 0;
    const limiter = new RateLimiter(down, () => failures++);
    assert.deepEqual(await allowed(limiter, 5), [true, true, true, true, true]);
    assert.equal(failures, 5);
  });

  it('with a fallback, keeps limiting in the process while the store is down', async () => {
    let failures = 0;
    const limiter = new RateLimiter(down, () => failures++, new MemoryBucketStore());
    assert.deepEqual(await allowed(limiter, 5), [true, true, true, false, false]);
    assert.equal(failures, 5);
  });

  it('gives tokens back, never past the capacity', async () => {
    const limiter = new RateLimiter(new MemoryBucketStore(() => 0));
    assert.deepEqual(await allowed(limiter, 4), [true, true, true, false]);
    await limiter.giveBack('k', policy);
    assert.deepEqual(await allowed(limiter, 2), [true, false]);
    for (let i = 0; i < 10; i++) await limiter.giveBack('k', policy);
    assert.deepEqual(await allowed(limiter, 4), [true, true, true, false]);
  });

  it('logs a Redis failure without REDIS_URL or its password', async () => {
    const lines: string[] = [];
    const capture = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    const logger: LoggerService = {
      log: capture,
      warn: capture,
      error: capture,
      debug: capture,
      verbose: capture,
    };
    Logger.overrideLogger(logger);
    const password = 'redis-password-never-logged';
    // Nothing listens there: every command fails, and the failure is logged.
    const url = `redis://:${password}@127.0.0.1:${await freePort()}`;
    const limiter = new RateLimiter(new RedisBucketStore(url, 'tally:rl:', 100));
    try {
      assert.equal((await limiter.take('k', policy)).allowed, true);
    } finally {
      await limiter.close();
      Logger.overrideLogger(['log', 'warn', 'error']);
    }
    assert.equal(lines.length, 1, 'the failure is logged');
    assert.match(lines[0], /rate-limit store unavailable/);
    assert.ok(!lines[0].includes(password) && !lines[0].includes(url), lines[0]);
  });

  it('refills at a fractional rate: 0.5 a second is one request every two seconds', async () => {
    let now = 0;
    const half: BucketPolicy = { name: 'half', capacity: 1, refillPerSecond: 0.5 };
    const limiter = new RateLimiter(new MemoryBucketStore(() => now));
    assert.equal((await limiter.take('k', half)).allowed, true);
    const refused = await limiter.take('k', half);
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterSeconds, 2);
    assert.equal(rateLimitHeaders(refused)['RateLimit-Policy'], '"half";q=1;w=2');
    now = 1_999;
    assert.equal((await limiter.take('k', half)).allowed, false);
    now = 2_000;
    assert.equal((await limiter.take('k', half)).allowed, true);
  });
});
