import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { JsonFloat, stringifyJson } from '#domain';
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

  it('leaves look-alike strings alone', () => {
    assert.equal(stringifyJson({ s: '__tally_bigint_x__1' }), '{"s":"__tally_bigint_x__1"}');
  });

  it('keeps __proto__ an ordinary key (no prototype pollution)', () => {
    const parsed = parseJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
