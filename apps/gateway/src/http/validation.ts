import { z } from 'zod';
import { MAX_AMOUNT, CURRENCY_PATTERN } from '#domain';
import { JsonFloat } from './json.js';
import { ValidationError } from './problem.js';

/** Parses `input` with `schema`; a failure becomes a 400 listing every bad field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(fieldErrors(result.error));
}

/** Each zod issue as `{ field, message }`; `whole` names the input itself. */
export function fieldErrors(error: z.ZodError, whole = '(body)') {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : whole,
    message:
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
}

/** A positive integer amount in minor units, 1 … 10^18, as a JSON number: becomes bigint. */
export const amount = z
  .custom<bigint | number>(
    (v) => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint',
    'must be an integer number of minor units (not a string or a fraction)',
  )
  .transform((v) => BigInt(v))
  .refine((v) => v >= 1n && v <= MAX_AMOUNT, `must be between 1 and ${MAX_AMOUNT}`);

/** A non-negative integer in minor units (thresholds). */
export const nonNegativeAmount = z
  .custom<bigint | number>(
    (v) => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint',
    'must be an integer number of minor units',
  )
  .transform((v) => BigInt(v))
  .refine((v) => v >= 0n && v <= MAX_AMOUNT, `must be between 0 and ${MAX_AMOUNT}`);

export const currency = z
  .string()
  .regex(CURRENCY_PATTERN, 'must be an ISO 4217 code or a custom unit like CREDITS');

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A key of a flat object (metadata, event properties): no prototype-polluting names. */
export const flatKey = (maxLength: number) =>
  z
    .string()
    .min(1)
    .max(maxLength)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'keys may use letters, digits, _ . : -')
    .refine((k) => !FORBIDDEN_KEYS.has(k), 'reserved key');

/** A flat object of at most 50 keys with string, number, boolean or null values. */
export const metadata = z
  .record(
    flatKey(40),
    z.union([
      z.string().max(500),
      z.number().int().refine(Number.isSafeInteger, 'too large'),
      z.instanceof(JsonFloat).transform((f) => f.valueOf()),
      z.boolean(),
      z.null(),
    ]),
  )
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 keys');

export const description = z.string().max(500);
