import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { MemoryBucketStore, RateLimiter, type BucketPolicy, type BucketStore } from '#http';

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
});
