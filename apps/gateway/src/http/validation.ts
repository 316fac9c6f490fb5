import { plainToInstance } from 'class-transformer';
import {
  validateSync,
  type ValidationError as ClassValidatorError,
  type ValidatorOptions,
} from 'class-validator';
import { isStorableText } from '#persistence';
import { ValidationError, createValidationPipe, type FieldError } from '#http';
import { JsonFloat } from './json.js';

const UNSTORABLE_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/**
 * The strings in `input` (values and keys, at any depth) that Postgres cannot store, as field
 * errors. Checked before any DTO rule, whatever it allows: the database would refuse such a value
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

/**
 * Separates the key from the message in the errors of a rule over a flat object's entries
 * (fields.ts FlatRecord), one entry a line: the key becomes part of the field, `metadata.note`.
 * No key holds a NUL: unstorable text is refused before any rule runs.
 */
export const ENTRY_SEPARATOR = '\u0000';

/**
 * class-validator's errors as the gateway has always answered them: one `{ field, message }` per
 * broken rule, dotted for nested fields and `whole` for the input itself; the unknown fields of an
 * object listed together, on the object.
 */
export function gatewayFieldErrors(
  errors: ClassValidatorError[],
  whole = '(body)',
  parent = '',
): FieldError[] {
  const found: FieldError[] = [];
  const unknown: string[] = [];
  for (const error of errors) {
    const here = parent ? `${parent}.${error.property}` : error.property;
    for (const [rule, message] of Object.entries(error.constraints ?? {})) {
      if (rule === 'whitelistValidation') unknown.push(error.property);
      else if (rule === 'isObject' && !parent && (error.property === 'body' || error.property === 'query'))
        found.push({ field: whole, message: 'must be a JSON object' });
      else if (message.includes(ENTRY_SEPARATOR)) {
        for (const entry of message.split('\n')) {
          const [key, text] = entry.split(ENTRY_SEPARATOR);
          found.push({ field: key ? `${here}.${key}` : here, message: text });
        }
      } else found.push({ field: here, message });
    }
    found.push(...gatewayFieldErrors(error.children ?? [], whole, here));
  }
  if (unknown.length > 0)
    found.unshift({ field: parent || whole, message: `unknown field(s): ${unknown.join(', ')}` });
  return found;
}

// The input is known to be a plain object here; a class without rules (a body with no fields)
// then refuses every field it is sent.
const OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: false,
  validationError: { target: false, value: false },
};
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type Checked<T> = { value: T; errors?: undefined } | { value?: undefined; errors: FieldError[] };

const TAKEN_AS_SENT = new Set<object>();

/**
 * For a DTO whose fields class-transformer leaves as they are (no @Type, no @Transform but one
 * that returns the value as sent): check() makes its instance from the input's own fields, not by
 * a class-transformer pass, which looks up the class's transforms and copies the input field by
 * field (at any depth) for every object it checks. The two instances are the same (unit test
 * `gateway DTOs`); the copy was a quarter of checking a usage event (7.1 µs with it, 5.5 without).
 */
export const FieldsAsSent = (): ClassDecorator => (target) => {
  TAKEN_AS_SENT.add(target);
};

/** The classes marked @FieldsAsSent (for the test that each is the same either way). */
export const classesTakenAsSent = (): readonly object[] => [...TAKEN_AS_SENT];

/**
 * `input` as an instance of `dto`, or why not: the same rules, in the same order, as the global
 * pipe (unstorable text first), synchronously — for the hot path and for the items of a batch,
 * each checked and refused on its own.
 */
export function check<T extends object>(
  dto: new () => T,
  input: unknown,
  whole = '(body)',
  // A batch's envelope: its items are checked one by one afterwards, each refused alone, so
  // their text is not read here.
  { envelope = false } = {},
): Checked<T> {
  if (!envelope) {
    const unstorable = unstorableFields(input, whole);
    if (unstorable.length > 0) return { errors: unstorable };
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return { errors: [{ field: whole, message: 'must be a JSON object' }] };
  // Refused before any instance is made: an own `__proto__` would set its prototype.
  const reserved = Object.keys(input).filter((key) => RESERVED_KEYS.has(key));
  if (reserved.length > 0)
    return { errors: [{ field: whole, message: `unknown field(s): ${reserved.join(', ')}` }] };
  const value = TAKEN_AS_SENT.has(dto) ? Object.assign(new dto(), input) : plainToInstance(dto, input);
  const errors = validateSync(value, OPTIONS);
  return errors.length > 0 ? { errors: gatewayFieldErrors(errors, whole) } : { value };
}

/** `input` as an instance of `dto`; a 400 `validation_error` listing every bad field if it is not one. */
export function validated<T extends object>(dto: new () => T, input: unknown): T {
  const checked = check(dto, input);
  if (checked.errors) throw new ValidationError(checked.errors);
  return checked.value;
}

/** The gateway's global ValidationPipe: unstorable text refused first, errors as the gateway words them. */
export function gatewayValidationPipe() {
  return createValidationPipe({
    precheck: (value, metadata) =>
      metadata.type === 'body' || metadata.type === 'query' ? unstorableFields(value) : [],
    errorsOf: (errors) => gatewayFieldErrors(errors),
  });
}
