import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { DomainError } from '#domain';
import { PermanentMessageError, RetryPolicy, isPermanent } from '#messaging';

class InsufficientFunds extends DomainError {
  readonly code = 'insufficient_funds';
}

describe('RetryPolicy', () => {
  const policy = new RetryPolicy([1000, 10_000, 60_000, 300_000], 6);

  it('retries transient failures through growing tiers, staying on the last one', () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) => policy.decide(new Error('ECONNRESET'), attempt));
    assert.deepEqual(delays, [
      { action: 'retry', delayMs: 1000 },
      { action: 'retry', delayMs: 10_000 },
      { action: 'retry', delayMs: 60_000 },
      { action: 'retry', delayMs: 300_000 },
      { action: 'retry', delayMs: 300_000 },
    ]);
  });

  it('dead-letters when attempts run out', () => {
    assert.deepEqual(policy.decide(new Error('deadlock detected'), 6), {
      action: 'dead-letter',
      reason: 'attempts_exhausted',
    });
  });

  it('never retries permanent failures: business rules and malformed messages', () => {
    for (const error of [new InsufficientFunds('no money'), new PermanentMessageError('bad json')]) {
      assert.equal(isPermanent(error), true);
      assert.deepEqual(policy.decide(error, 1), { action: 'dead-letter', reason: 'permanent' });
    }
  });

  it('treats unknown errors and non-errors as transient', () => {
    assert.equal(isPermanent(new Error('?')), false);
    assert.equal(isPermanent('a string'), false);
    assert.equal(isPermanent(undefined), false);
  });

  it('needs at least one tier', () => {
    assert.throws(() => new RetryPolicy([], 3));
  });
});
