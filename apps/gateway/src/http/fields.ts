import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import { CURRENCY_PATTERN, MAX_AMOUNT } from '#domain';
import { IsAmount } from '#http';
import { JsonFloat } from './json.js';
import { ENTRY_SEPARATOR } from './validation.js';

// The gateway DTOs' fields: each decorator validates, transforms and documents one kind of value.

type Doc = Pick<ApiPropertyOptions, 'description' | 'example'>;

/** Present or not, but never null (`null` is refused like any other wrong value). */
export const Optional = () => ValidateIf((_object, value) => value !== undefined);
/** Absent or null. */
export const Nullable = () => IsOptional();

const propertyDoc = (required: boolean, nullable: boolean, options: ApiPropertyOptions) => {
  const schema = (nullable ? { ...options, nullable: true } : options) as ApiPropertyOptions;
  return required ? ApiProperty(schema) : ApiPropertyOptional(schema);
};

export interface FieldOptions extends Doc {
  required?: boolean;
  nullable?: boolean;
}

const presence = ({ required = true, nullable = false }: FieldOptions) =>
  required ? [] : nullable ? [Nullable()] : [Optional()];

/** Text of `min`…`max` characters, as given. */
export const Text = (min: number, max: number, options: FieldOptions = {}) =>
  applyDecorators(
    ...presence(options),
    IsString({ message: 'must be a string' }),
    Length(min, max, { message: `must be ${min} to ${max} characters` }),
    propertyDoc(options.required ?? true, options.nullable ?? false, {
      type: 'string',
      minLength: min,
      maxLength: max,
      description: options.description,
      example: options.example,
    }),
  );

/** Text matching `pattern` (checked as given: no trimming). */
export const Pattern = (pattern: RegExp, message: string, options: FieldOptions = {}) =>
  applyDecorators(
    ...presence(options),
    IsString({ message: 'must be a string' }),
    Matches(pattern, { message }),
    propertyDoc(options.required ?? true, options.nullable ?? false, {
      type: 'string',
      pattern: pattern.source,
      description: options.description,
      example: options.example,
    }),
  );

/** An id of a resource this tenant owns (an account, a transaction): 1…64 characters. */
export const ResourceId = (example: string, options: FieldOptions = {}) =>
  Text(1, 64, { example, ...options });

/** An ISO 4217 code or a custom unit (CREDITS): the pattern is the domain's. */
export const Currency = () =>
  Pattern(CURRENCY_PATTERN, 'must be an ISO 4217 code or a custom unit like CREDITS', {
    description: 'ISO 4217 code or a custom unit such as CREDITS.',
    example: 'USD',
  });

const AMOUNT_DOC =
  'Minor units (cents, credits…), as a JSON integer. Floats (1.0 included), strings, zero and negatives are refused.';

/** An amount to move, in minor units: a JSON integer 1 … MAX_AMOUNT, exact (bigint). */
export const Amount = (options: FieldOptions = {}) =>
  applyDecorators(
    ...presence(options),
    IsAmount(),
    propertyDoc(options.required ?? true, false, {
      type: 'integer',
      format: 'int64',
      minimum: 1,
      maximum: Number(MAX_AMOUNT),
      description: options.description ?? AMOUNT_DOC,
      example: options.example ?? 2500,
    }),
  );

/** A threshold in minor units: a JSON integer 0 … MAX_AMOUNT, exact, or null. */
export const Threshold = (description: string) =>
  applyDecorators(
    Nullable(),
    IsAmount({ min: 0n }),
    propertyDoc(false, true, {
      type: 'integer',
      format: 'int64',
      minimum: 0,
      maximum: Number(MAX_AMOUNT),
      description,
      example: 500,
    }),
  );

/** One of `values` (an enum from libs/domain). */
export const OneOf = (values: readonly string[], options: FieldOptions = {}) =>
  applyDecorators(
    ...presence(options),
    IsIn(values, { message: `must be one of: ${values.join(', ')}` }),
    propertyDoc(options.required ?? true, options.nullable ?? false, {
      enum: [...values],
      description: options.description,
      example: options.example,
    }),
  );

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const INSTANT_MESSAGE = 'must be an ISO 8601 date-time with a time zone';

/** An instant with its offset (RFC 3339): 2026-11-21T12:00:00Z. */
export const Instant = (options: FieldOptions = {}) =>
  applyDecorators(
    ...presence(options),
    IsString({ message: INSTANT_MESSAGE }),
    Matches(RFC3339, { message: INSTANT_MESSAGE }),
    IsISO8601({ strict: true, strictSeparator: true }, { message: INSTANT_MESSAGE }),
    propertyDoc(options.required ?? true, false, {
      type: 'string',
      format: 'date-time',
      description: options.description,
      example: options.example ?? '2026-11-21T12:00:00Z',
    }),
  );

const KEY = /^[A-Za-z0-9_.:-]+$/;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface FlatRecordOptions extends Doc {
  keyLength: number;
  /** Why a value is refused, or null when it is taken. */
  valueProblem: (value: unknown) => string | null;
  /** The value as kept (metadata reads a float as a number; event properties keep it as written). */
  keep?: (value: unknown) => unknown;
  schema: ApiPropertyOptions;
}

export const MAX_FLAT_KEYS = 50;

/** Why `value` cannot be a flat object: each problem with its key ('' for the whole object). */
function flatRecordProblems(value: unknown, options: FlatRecordOptions): [key: string, message: string][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof JsonFloat)
    return [['', 'must be an object']];
  const entries = Object.entries(value);
  if (entries.length > MAX_FLAT_KEYS) return [['', `at most ${MAX_FLAT_KEYS} keys`]];
  const problems: [string, string][] = [];
  for (const [key, item] of entries) {
    if (key.length < 1 || key.length > options.keyLength)
      problems.push([key, `keys are 1 to ${options.keyLength} characters`]);
    else if (!KEY.test(key)) problems.push([key, 'keys may use letters, digits, _ . : -']);
    else if (RESERVED_KEYS.has(key)) problems.push([key, 'reserved key']);
    const problem = options.valueProblem(item);
    if (problem) problems.push([key, problem]);
  }
  return problems;
}

/**
 * A flat object (metadata, event properties): at most 50 keys of letters, digits, _ . : -, each
 * value a scalar. A bad entry is reported under its own key (`metadata.note`).
 */
export const FlatRecord = (options: FlatRecordOptions) =>
  applyDecorators(
    Optional(),
    Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) => {
      const value = obj[key];
      if (!options.keep || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, options.keep!(v)]));
    }),
    ValidateBy({
      name: 'flatRecord',
      validator: {
        validate: (value: unknown) => flatRecordProblems(value, options).length === 0,
        defaultMessage: (args) =>
          flatRecordProblems(args?.value, options)
            .map(([key, message]) => `${key}${ENTRY_SEPARATOR}${message}`)
            .join('\n'),
      },
    }),
    ApiPropertyOptional({ ...options.schema, description: options.description, example: options.example }),
  );

/** Metadata kept with a resource: values strings (≤ 500), safe integers, numbers, booleans or null. */
export const Metadata = () =>
  FlatRecord({
    keyLength: 40,
    keep: (v) => (v instanceof JsonFloat ? v.valueOf() : v),
    valueProblem: (v) =>
      v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
        ? typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)
          ? 'too large'
          : null
        : typeof v === 'string'
          ? v.length > 500
            ? 'must be at most 500 characters'
            : null
          : 'must be a string, a number, a boolean or null',
    description: 'Yours to keep with it: flat, at most 50 keys (1-40 of letters, digits, _ . : -).',
    example: { orderId: 'ord_981' },
    schema: {
      type: 'object',
      maxProperties: MAX_FLAT_KEYS,
      propertyNames: { pattern: '^[A-Za-z0-9_.:-]{1,40}$' },
      additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
    } as ApiPropertyOptions,
  });

/** A free-text description, at most 500 characters. */
export const Description = (options: FieldOptions = {}) =>
  applyDecorators(
    ...presence({ required: false, ...options }),
    IsString({ message: 'must be a string' }),
    MaxLength(500, { message: 'must be at most 500 characters' }),
    propertyDoc(false, options.nullable ?? false, {
      type: 'string',
      maxLength: 500,
      description: options.description,
      example: options.example ?? 'Invoice 2024-117',
    }),
  );

/** A signed or unsigned amount in an answer: a JSON integer, exact at any size. */
export const AmountOut = (description?: string, example: number = 2500) =>
  ApiProperty({ type: 'integer', format: 'int64', description, example });

/** An instant in an answer (UTC, milliseconds). */
export const InstantOut = (description?: string, nullable = false) =>
  ApiProperty({
    type: 'string',
    format: 'date-time',
    description,
    example: '2026-11-21T12:00:00.000Z',
    ...(nullable ? { nullable: true } : {}),
  });

/** A flat object in an answer (metadata, properties). */
export const FlatOut = (description?: string, example: object = { orderId: 'ord_981' }) =>
  ApiProperty({
    type: 'object',
    additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
    description,
    example,
  } as ApiPropertyOptions);

/** A page of `item`s, newest first, and the cursor of the next one (null on the last page). */
export function PageOf<T>(item: new () => T, name: string) {
  class Page {
    @ApiProperty({ type: [item] })
    data!: T[];

    @ApiProperty({
      type: 'string',
      nullable: true,
      description: 'Pass as `cursor` for the next page; null on the last one.',
    })
    nextCursor!: string | null;
  }
  Object.defineProperty(Page, 'name', { value: name });
  return Page;
}
