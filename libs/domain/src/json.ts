import { randomBytes } from 'node:crypto';
import { isSafeNumber, parse } from 'lossless-json';

/** A JSON number written with a fraction or exponent. Amounts refuse it; elsewhere it is a number. */
export class JsonFloat {
  constructor(readonly text: string) {}
  valueOf(): number {
    return Number(this.text);
  }
}

// A per-process marker for bigints on their way out, so JSON.stringify can carry them as numbers.
const MARK = `__tally_bigint_${randomBytes(8).toString('hex')}__`;
const MARKED = new RegExp(`"${MARK}(-?\\d+)"`, 'g');

/** JSON.stringify that writes bigints as plain JSON numbers, exactly (balances can pass 2^53). */
export function stringifyJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'bigint' ? `${MARK}${v.toString()}` : v instanceof JsonFloat ? Number(v.text) : v,
  );
  return text === undefined ? '' : text.includes(MARK) ? text.replace(MARKED, '$1') : text;
}

/**
 * Parses JSON without losing precision: integers beyond 2^53 become bigint, and non-integer
 * literals are kept apart (JsonFloat) so "10.0" is not mistaken for the integer 10.
 */
export function parseJson(text: string): unknown {
  return parse(text, null, (literal: string) => {
    if (/^-?\d+$/.test(literal)) return isSafeNumber(literal) ? Number(literal) : BigInt(literal);
    return new JsonFloat(literal);
  });
}
