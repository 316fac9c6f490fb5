import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from '@jest/globals';
import { SecretBox } from '#persistence';

describe('SecretBox (webhook secrets at rest)', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('seals with AES-256-GCM and opens again; the stored form holds no plaintext', () => {
    const box = new SecretBox([newKey]);
    const sealed = box.seal('whsec_abc123', 'whe_1');
    assert.match(sealed, /^enc:v1:[0-9a-f]{8}:[\w-]+:[\w-]+:[\w-]+$/);
    assert.ok(!sealed.includes('abc123'));
    assert.notEqual(box.seal('whsec_abc123', 'whe_1'), sealed, 'a fresh IV each time');
    assert.equal(box.open(sealed, 'whe_1'), 'whsec_abc123');
  });

  it('does not open a ciphertext moved to another row', () => {
    const box = new SecretBox([newKey]);
    assert.throws(() => box.open(box.seal('whsec_abc123', 'whe_1'), 'whe_2'));
  });

  it('does not open a tampered ciphertext', () => {
    const box = new SecretBox([newKey]);
    const parts = box.seal('whsec_abc123', 'whe_1').split(':');
    const body = Buffer.from(parts[4], 'base64url');
    body[0] ^= 1;
    parts[4] = body.toString('base64url');
    assert.throws(() => box.open(parts.join(':'), 'whe_1'));
  });

  it('rotates keys: the old key still opens, values under it are stale; a removed key does not open', () => {
    const sealedOld = new SecretBox([oldKey]).seal('whsec_old', 'whe_1');
    const rotated = new SecretBox([newKey, oldKey]);
    assert.equal(rotated.open(sealedOld, 'whe_1'), 'whsec_old');
    assert.equal(rotated.isStale(sealedOld), true);
    assert.equal(rotated.isStale(rotated.seal('whsec_new', 'whe_1')), false);
    assert.throws(() => new SecretBox([newKey]).open(sealedOld, 'whe_1'), /not configured/);
  });

  it('reads a secret stored before encryption at rest, and marks it stale', () => {
    const box = new SecretBox([newKey]);
    assert.equal(box.open('whsec_plain', 'whe_1'), 'whsec_plain');
    assert.equal(box.isStale('whsec_plain'), true);
  });

  it('accepts only 32-byte keys', () => {
    assert.throws(() => new SecretBox([randomBytes(16)]));
    assert.throws(() => new SecretBox([]));
  });
});
