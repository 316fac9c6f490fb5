import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import fc from 'fast-check';
import { isStorableText } from '#persistence';

describe('text Postgres can store', () => {
  // Any UTF-16 code unit, surrogate halves and NUL often.
  const unit = fc.oneof(
    fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '😀', 'a'),
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  );

  it('is exactly the text that survives UTF-8 unchanged and holds no NUL', () => {
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 12 }), (text) => {
        const survives = Buffer.from(text, 'utf8').toString('utf8') === text && !text.includes('\u0000');
        assert.equal(isStorableText(text), survives, JSON.stringify(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('a pair of surrogates is a character like any other', () => {
    assert.equal(isStorableText('paid in 💶 and 😀'), true);
    assert.equal(isStorableText('\ud83d\ude00'), true);
    assert.equal(isStorableText('\ude00\ud83d'), false);
  });
});
