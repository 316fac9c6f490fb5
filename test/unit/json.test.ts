import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import fc from 'fast-check';
import { JsonFloat, canonicalJson, jsonNestsDeeperThan, stringifyJson } from '#domain';
import { fingerprintOf } from '../../apps/gateway/src/idempotency/idempotency.service.js';
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

  it('writes any value as JSON.stringify would, bigints and float literals aside', () => {
    // The writer stringifyJson replaced: JSON.stringify with a replacer that marks the numbers.
    const MARK = '__reference_number__';
    const reference = (value: unknown): string => {
      const text = JSON.stringify(value, (_key, v: unknown) =>
        typeof v === 'bigint' ? `${MARK}${v}` : v instanceof JsonFloat ? `${MARK}${v.text}` : v,
      );
      return text === undefined ? '' : text.replace(new RegExp(`"${MARK}(-?[\\d.]+)"`, 'g'), '$1');
    };
    const float = fc
      .tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.nat({ max: 999 }))
      .map(([whole, fraction]) => new JsonFloat(`${whole}.${fraction}`));
    const value = fc.oneof(
      fc.anything({
        withBigInt: true,
        withBoxedValues: true,
        withDate: true,
        withNullPrototype: true,
        withSparseArray: true,
        withTypedArray: true,
        withObjectString: true,
        withUnicodeString: true,
      }),
      fc.dictionary(fc.string(), fc.oneof(float, fc.bigInt(), fc.constant(undefined), fc.func(fc.nat()))),
      fc.array(fc.oneof(float, fc.bigInt(), fc.constant(undefined), fc.func(fc.nat()))),
    );
    fc.assert(
      fc.property(value, (v) => {
        assert.equal(stringifyJson(v), reference(v));
      }),
      { numRuns: 2_000 },
    );
    const toJson = { toJSON: (key: string) => ({ key, n: 1n }) };
    assert.equal(stringifyJson({ at: toJson }), '{"at":{"key":"at","n":1}}');
    assert.equal(stringifyJson([NaN, -0, Infinity, undefined]), '[null,0,null,null]');
    assert.equal(stringifyJson(undefined), '');
    assert.equal(stringifyJson(new Date(Date.UTC(2026, 0, 2))), '"2026-01-02T00:00:00.000Z"');
  });

  it('writes the canonical text of a fingerprint as before: plain objects sorted by key, at any depth', () => {
    // The canonical form fingerprints were made of before canonicalJson: a sorted copy, then written.
    const sortedCopy = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(sortedCopy)
        : value && typeof value === 'object' && value.constructor === Object
          ? Object.fromEntries(
              Object.keys(value)
                .sort()
                .map((k) => [k, sortedCopy((value as Record<string, unknown>)[k])]),
            )
          : value;
    const json = fc.jsonValue().map((v) => parseJson(JSON.stringify(v) ?? 'null'));
    fc.assert(
      fc.property(fc.oneof(json, fc.anything({ withBigInt: true, withDate: true })), (v) => {
        assert.equal(canonicalJson(v), stringifyJson(sortedCopy(v)));
      }),
      { numRuns: 2_000 },
    );
    assert.equal(
      canonicalJson(parseJson('{"b":{"d":1.0,"c":[{"f":2,"e":1}]},"a":1}')),
      '{"a":1,"b":{"c":[{"e":1,"f":2}],"d":1.0}}',
    );
    // Keys that are array indexes come first, in numeric order, as they did in the sorted copy.
    const indexed = parseJson('{"b":1,"10":1,"2":1,"a":1,"4294967295":1,"4294967294":1,"01":1,"-0":1}');
    assert.equal(canonicalJson(indexed), stringifyJson(sortedCopy(indexed)));
    assert.equal(
      canonicalJson(indexed),
      '{"2":1,"10":1,"4294967294":1,"-0":1,"01":1,"4294967295":1,"a":1,"b":1}',
    );
    // A key stored before this writer must match the same request after it (computed at 4341acd).
    const body =
      '{"events":[{"type":"a","id":"e1","properties":{"z":1.0,"y":12345678901234567890,"x":null}}],"b":[true,"\\u00e9"]}';
    assert.equal(
      fingerprintOf({ method: 'post', path: '/v1/events', body: parseJson(body) }),
      '9b3a18938e574d5037e04a8c49806611f9b34f00ac1972e7eec0721d90acb787',
    );
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
