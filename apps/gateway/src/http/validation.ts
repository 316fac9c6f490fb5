import { z } from 'zod';
import { MAX_AMOUNT, CURRENCY_PATTERN } from '#domain';
import { isStorableText } from '#persistence';
import { JsonFloat } from './json.js';
import { ValidationError, type FieldError } from '#http';

/**
 * Parses `input` with `schema`; a failure becomes a 400 listing every bad field. So does a string
 * anywhere in `input` that Postgres cannot store (see unstorableFields).
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const unstorable = unstorableFields(input);
  if (unstorable.length > 0) throw new ValidationError(unstorable);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(fieldErrors(result.error));
}

const UNSTORABLE_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/**
 * The strings in `input` (values and keys, at any depth) that Postgres cannot store, as field
 * errors. Checked before any schema, whatever it allows: the database would refuse such a value
 * (or, a lone surrogate in text, alter it), and a refused value fails the whole group-committed
 * accept statement it is written in, other tenants' requests included.
 */
export function unstorableFields(input: unknown, whole = '(body)'): FieldError[] {
  const found: FieldError[] = [];
  const path: (string | number)[] = [];
  const field = () => (path.length > 0 ? path.join('.') : whole);
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      if (!isStorableText(value)) found.push({ field: field(), message: UNSTORABLE_MESSAGE });
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        visit(value[i]);
        path.pop();
      }
    } else if (value !== null && typeof value === 'object' && !(value instanceof JsonFloat)) {
      for (const [key, item] of Object.entries(value)) {
        if (!isStorableText(key)) {
          found.push({ field: field(), message: `keys ${UNSTORABLE_MESSAGE}` });
          continue;
        }
        path.push(key);
        visit(item);
        path.pop();
      }
    }
  };
  visit(input);
  return found;
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
