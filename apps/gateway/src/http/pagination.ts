import { z } from 'zod';
import { ValidationError } from '#http';

export const pageQuery = {
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 100, 'must be a whole number from 1 to 100')
    .optional(),
  cursor: z.string().max(200).optional(),
};

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
