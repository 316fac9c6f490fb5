import { randomBytes } from 'node:crypto';
import { isSafeNumber, parse } from 'lossless-json';

/** A JSON number written with a fraction or exponent. Amounts refuse it; elsewhere it is a number. */
export class JsonFloat {
  constructor(readonly text: string) {}
  valueOf(): number {
    return Number(this.text);
  }
}

// A per-process marker for numbers on their way out, so JSON.stringify can carry them as written.
const MARK = `__tally_bigint_${randomBytes(8).toString('hex')}__`;
const MARKED = new RegExp(`"${MARK}(-?\\d[\\d.eE+-]*)"`, 'g');

/**
 * A float literal as a plain decimal with a fraction (2e0 → 2.0, 15e-1 → 1.5), so it stays a float
 * wherever it is read again, Postgres jsonb included (which stores 2e0 as the integer 2 but keeps
 * 2.0). Literals without an exponent, and absurd exponents, are left as written.
 */
function plainFloat(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?[eE]([+-]?\d+)$/.exec(text);
  if (!m || Math.abs(Number(m[4])) > 1000) return text;
  const digits = m[2] + (m[3] ?? '');
  const point = m[2].length + Number(m[4]);
  const plain =
    point <= 0
      ? `0.${'0'.repeat(-point)}${digits}`
      : point >= digits.length
        ? `${digits}${'0'.repeat(point - digits.length)}.0`
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return m[1] + plain.replace(/^0+(?=\d)/, '');
}

/**
 * JSON.stringify that writes bigints as plain JSON numbers, exactly (balances can pass 2^53), and
 * a parsed float literal as a float: "1.0" stays 1.0, so whoever reads it again still sees a
 * float, not the integer 1.
 */
export function stringifyJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'bigint'
      ? `${MARK}${v.toString()}`
      : v instanceof JsonFloat
        ? `${MARK}${plainFloat(v.text)}`
        : v,
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

/**
 * How deeply a request body may nest objects and arrays. No request of either API needs more than
 * a few levels; past this, recursive code (the parser, fingerprints, validation) could run out of
 * stack on a body well under the size limit.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether JSON `text` nests objects and arrays deeper than `max`, by one pass over the text
 * before any parser recurses into it (brackets inside strings do not count). It does not check
 * that the text is JSON: the parser does that afterwards.
 */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // A backslash escapes the next character; a quote ends the string.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
