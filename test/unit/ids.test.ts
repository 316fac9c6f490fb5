import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

  it('reject timestamps outside 48 bits', () => {
    assert.throws(() => ulid(-1), RangeError);
    assert.throws(() => ulid(2 ** 48), RangeError);
  });
});
