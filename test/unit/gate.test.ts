import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { Gate } from '#persistence';

describe('Gate (bounded concurrency for work on hot rows)', () => {
  it('runs at most `limit` tasks at once, all of them eventually, failures included', async () => {
    const gate = new Gate(2);
    let active = 0;
    let peak = 0;
    const done: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 7 }, (_, i) =>
        gate.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 5));
          active--;
          if (i === 3) throw new Error('boom');
          done.push(i);
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.equal(results.filter((r) => r.status === 'rejected').length, 1);
    assert.deepEqual(done.sort(), [0, 1, 2, 4, 5, 6]);
    // Still usable afterwards: a failure gave its place back.
    await gate.run(async () => undefined);
  });
});
