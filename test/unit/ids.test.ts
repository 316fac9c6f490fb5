import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { hasIdPrefix, newId, ulid } from '#domain';

describe('ids', () => {
  it('are prefixed, 26 Crockford base32 characters after the prefix', () => {
    const id = newId('txn');
    assert.match(id, /^txn_[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.equal(hasIdPrefix(id, 'txn'), true);
    assert.equal(hasIdPrefix(id, 'acc'), false);
    assert.equal(hasIdPrefix('txn_short', 'txn'), false);
  });

  it('sort by creation time', () => {
    const earlier = newId('acc', 1_700_000_000_000);
    const later = newId('acc', 1_700_000_000_001);
    assert.ok(earlier < later);
    assert.equal(ulid(0).slice(0, 10), '0000000000');
    assert.equal(ulid(2 ** 48 - 1).slice(0, 10), '7ZZZZZZZZZ');
  });

  it('do not repeat', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId('evt', 1)));
    assert.equal(ids.size, 10_000);
  });

  it('spread their 80 random bits over every character, across refills of the random pool', () => {
    const randoms = Array.from({ length: 2_000 }, () => ulid(1).slice(10));
    for (let position = 0; position < 16; position++) {
      const seen = new Set(randoms.map((r) => r[position]));
      // 2,000 draws of 32 symbols (the last character carries 5 of the bits too): all appear.
      assert.equal(seen.size, 32, `position ${position} takes every symbol`);
    }
  });

  it('reject timestamps outside 48 bits', () => {
    assert.throws(() => ulid(-1), RangeError);
    assert.throws(() => ulid(2 ** 48), RangeError);
  });
});
