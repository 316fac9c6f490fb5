import { isSafeNumber, parse } from 'lossless-json';
import { JsonFloat } from '#domain';

export { JsonFloat, stringifyJson } from '#domain';

/**
 * Parses request JSON without losing precision: integers beyond 2^53 become bigint, and
 * non-integer literals are kept apart (JsonFloat) so "10.0" is not mistaken for the integer 10.
 */
export function parseJson(text: string): unknown {
  return parse(text, null, (literal: string) => {
    if (/^-?\d+$/.test(literal)) return isSafeNumber(literal) ? Number(literal) : BigInt(literal);
    return new JsonFloat(literal);
  });
}
