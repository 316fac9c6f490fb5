import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import fc from 'fast-check';
import { JsonFloat, jsonNestsDeeperThan, stringifyJson } from '#domain';
import { parseJson } from '../../apps/gateway/src/http/json.js';

describe('exact JSON for money', () => {
  it('keeps integers beyond 2^53 exact both ways', () => {
    const parsed = parseJson('{"a":9007199254740993,"b":12}') as { a: bigint; b: number };
    assert.equal(parsed.a, 9007199254740993n);
    assert.equal(parsed.b, 12);
    assert.equal(stringifyJson({ a: 9007199254740993n, b: [1n, -2n] }), '{"a":9007199254740993,"b":[1,-2]}');
  });

  it('tells a float literal from an integer, even 10.0', () => {
    assert.ok((parseJson('{"x":10.0}') as { x: unknown }).x instanceof JsonFloat);
    assert.ok((parseJson('{"x":1e3}') as { x: unknown }).x instanceof JsonFloat);
    assert.equal(stringifyJson({ x: new JsonFloat('1.5') }), '{"x":1.5}');
  });

  it('writes a float literal back as it was written (1.0 does not become the integer 1)', () => {
    const text = '{"a":1.0,"b":-2.50,"e":[0.0],"f":7}';
    assert.equal(stringifyJson(parseJson(text)), text);
    // With an exponent, as a plain decimal that keeps a fraction (jsonb stores 2e0 as the integer 2).
    assert.equal(
      stringifyJson(parseJson('[2e0,1e3,1E-7,15e-1,-0.5e1,0.05E+1,1.25e1,1e2000]')),
      '[2.0,1000.0,0.0000001,1.5,-5.0,0.5,12.5,1e2000]',
    );
    const again = parseJson(stringifyJson(parseJson('{"q":1.0}'))) as { q: unknown };
    assert.ok(again.q instanceof JsonFloat);
  });

  it('leaves look-alike strings alone', () => {
    assert.equal(stringifyJson({ s: '__tally_bigint_x__1' }), '{"s":"__tally_bigint_x__1"}');
  });

  it('keeps __proto__ an ordinary key (no prototype pollution)', () => {
    const parsed = parseJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('JSON nesting depth, measured on the text', () => {
  /** The depth of a parsed value: 0 for a scalar, 1 for a flat object or array. */
  const depthOf = (value: unknown): number =>
    value !== null && typeof value === 'object'
      ? 1 + Math.max(0, ...Object.values(value as object).map(depthOf))
      : 0;
  /** Strings full of what the scan must not count: brackets, quotes and backslashes. */
  const tricky = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', '\u0000') });
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      tricky,
      fc.integer(),
      fc.constant(null),
      fc.array(tie('node'), { maxLength: 3 }),
      fc.dictionary(tricky, tie('node'), { maxKeys: 3 }),
    ),
  })).node;

  it('agrees with the depth of the parsed value, whatever the strings hold', () => {
    fc.assert(
      fc.property(value, fc.nat(12), fc.integer({ min: 0, max: 12 }), (v, wrap, max) => {
        const text = '['.repeat(wrap) + JSON.stringify(v) + ']'.repeat(wrap);
        const depth = depthOf(JSON.parse(text));
        assert.equal(jsonNestsDeeperThan(text, max), depth > max, `${text} (depth ${depth}, max ${max})`);
      }),
      { numRuns: 2000 },
    );
  });

  it('stops at the first level too deep, however deep the rest goes', () => {
    assert.equal(jsonNestsDeeperThan('['.repeat(33) + ']'.repeat(33), 32), true);
    assert.equal(jsonNestsDeeperThan('['.repeat(32) + ']'.repeat(32), 32), false);
    assert.equal(jsonNestsDeeperThan(`{"a":"${'['.repeat(100)}"}`, 1), false);
    assert.equal(jsonNestsDeeperThan('['.repeat(60_000), 32), true);
  });
});
