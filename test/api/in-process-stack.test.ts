import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { InProcessStack } from '../support/in-process.js';

// Two stacks at once share the run's database, and each one's outbox relay would publish the
// other's commands to its own prefix, where nothing reads them: a test then waits for an outcome
// that never comes (docs/testing.md). A second app is `startExtra`; a second stack is refused.
describe('InProcessStack: one stack of a test file at a time', () => {
  it('refuses a second stack while the first runs, takes an extra app, and starts again once stopped', async () => {
    const first = await InProcessStack.start('one-stack', ['gateway']);
    try {
      await assert.rejects(
        InProcessStack.start('one-stack-again', ['gateway']),
        /InProcessStack\.start\('one-stack-again'\): the stack \S+ is still running.*startExtra/,
      );
      const extra = await first.startExtra('gateway');
      assert.equal((await fetch(`${extra.url}/health/live`)).status, 200);
    } finally {
      await first.stop();
    }
    const second = await InProcessStack.start('one-stack-again', ['gateway']);
    try {
      assert.equal((await fetch(`${second.url('gateway')}/health/live`)).status, 200);
    } finally {
      await second.stop();
    }
  });
});
