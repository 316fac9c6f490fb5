import { randomBytes } from 'node:crypto';

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
