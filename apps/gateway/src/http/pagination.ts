import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { ValidationError } from '#http';
import { Optional } from './fields.js';

const LIMIT_MESSAGE = 'must be a whole number from 1 to 100';

/** `?limit=&cursor=`: every list of the gateway pages the same way, newest first. */
export class PageQuery {
  @Optional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : value))
  @IsInt({ message: LIMIT_MESSAGE })
  @Min(1, { message: LIMIT_MESSAGE })
  @Max(100, { message: LIMIT_MESSAGE })
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 100,
    default: 20,
    description: 'Items per page.',
  })
  limit?: number;

  @Optional()
  @IsString({ message: 'must be a string' })
  @MaxLength(200, { message: 'must be at most 200 characters' })
  @ApiPropertyOptional({
    maxLength: 200,
    description: "The previous page's `nextCursor`, to read the page after it.",
    example: 'djE6YWNjXzAxSkQzWjhRNE42VjNGNVc3WDlZMUEyQjND',
  })
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Cursors are opaque to clients: base64url of the last position seen. */
export function encodeCursor(position: string): string {
  return Buffer.from(`v1:${position}`, 'utf8').toString('base64url');
}

export function decodeCursor(
  cursor: string | undefined,
  isPosition: (position: string) => boolean,
): string | undefined {
  if (cursor === undefined) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const position = text.startsWith('v1:') ? text.slice(3) : '';
  if (!isPosition(position))
    throw new ValidationError([{ field: 'cursor', message: 'is not a cursor this API gave out' }]);
  return position;
}

/** Fetch `limit + 1` rows; the extra one says whether there is a next page. */
export function pageOf<R, T>(
  rows: R[],
  limit: number,
  position: (row: R) => string,
  present: (row: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  return {
    data: shown.map(present),
    nextCursor: more ? encodeCursor(position(shown[shown.length - 1])) : null,
  };
}
