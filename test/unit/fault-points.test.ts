import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { parseFaults } from '#messaging';

describe('TALLY_FAULTS', () => {
  it('arms each named point with the passes it lets through first', () => {
    assert.deepEqual(
      [...parseFaults(' relay.after-confirm, worker.before-commit:after=20 ')],
      [
        ['relay.after-confirm', 0],
        ['worker.before-commit', 20],
      ],
    );
    assert.equal(parseFaults('').size, 0);
  });

  it('refuses an unknown point or a malformed count, so a typo cannot disarm a fault test', () => {
    assert.throws(() => parseFaults('worker.before-comit'), /TALLY_FAULTS: "worker.before-comit"/);
    assert.throws(() => parseFaults('worker.after-commit:after=x'), /TALLY_FAULTS/);
    assert.throws(() => parseFaults('worker.after-commit:every=2'), /TALLY_FAULTS/);
  });
});
