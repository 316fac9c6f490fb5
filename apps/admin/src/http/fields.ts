import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

// The admin DTOs' fields: each decorator validates, transforms and documents one kind of value.

const trimmed = Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

/** A text an operator writes: trimmed, then `min`…`max` characters. */
export const Text = (min: number, max: number, doc: { description?: string; example?: string } = {}) =>
  applyDecorators(
    trimmed,
    IsString(),
    Length(min, max),
    ApiProperty({ minLength: min, maxLength: max, ...doc }),
  );

/** Why an operator does what they do: kept in the audit log. */
export const Reason = () =>
  Text(3, 1000, { description: 'Why: kept in the audit log.', example: 'customer topped up' });

/** An optional filter or name, as given, at most `max` characters. */
export const OptionalText = (max: number, doc: { description?: string; example?: string } = {}) =>
  applyDecorators(IsOptional(), IsString(), MaxLength(max), ApiPropertyOptional({ maxLength: max, ...doc }));

/** An optional value of `values`. */
export const OptionalOneOf = (values: readonly string[], description?: string) =>
  applyDecorators(IsOptional(), IsIn(values), ApiPropertyOptional({ enum: values, description }));

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const instant = [
  Matches(RFC3339, { message: ({ property }) => `${property} must be a date and time with its offset` }),
  IsISO8601({ strict: true, strictSeparator: true }),
];

/** An instant with its offset (RFC 3339): 2026-12-01T09:30:00Z. */
export const Instant = (description: string) =>
  applyDecorators(...instant, ApiProperty({ type: 'string', format: 'date-time', description }));

/** An optional instant with its offset. */
export const OptionalInstant = (description: string) =>
  applyDecorators(
    IsOptional(),
    ...instant,
    ApiPropertyOptional({ type: 'string', format: 'date-time', description }),
  );

/** `?limit=`: 1…500 rows, written as digits. */
export const Limit = (fallback: number) =>
  applyDecorators(
    IsOptional(),
    Transform(({ value }) => (typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : value)),
    IsInt({ message: 'limit must be a whole number' }),
    Min(1),
    Max(500),
    ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: fallback }),
  );

/** An amount the database adds up or signs, shown to operators as exact digits in a string. */
export const AMOUNT_TEXT = { type: 'string', pattern: '^-?\\d+$', example: '2500' } as const;

/** A resource id in the path. */
export const PathId = (example: string) =>
  applyDecorators(IsString(), Length(1, 255), ApiProperty({ example }));

/** `?before=`: the `nextBefore` of the previous page (newest first). */
export const Before = () => OptionalText(200, { description: 'The `nextBefore` of the previous page.' });

/** A page's `nextBefore`: where the next (older) page starts. */
export const NextBefore = () =>
  ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as `before` for the next page; null on the last.',
  });
