import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { tallyCli } from '#test-support';

// Runs last (files run in name order): everything the suite did to the ledger must still add up.
describe('after the whole suite', () => {
  it('ledger:verify passes on the run database', async () => {
    const result = await tallyCli(['ledger:verify']);
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /ledger:verify passed/);
  });
});
