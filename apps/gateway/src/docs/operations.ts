import { applyDecorators, type Type } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { RATE_LIMIT_HEADERS } from './problems.js';

// The parts of the gateway's operations that many share: headers asked and answered, successes.

type Headers = Record<string, { description?: string; schema: object }>;

/** `Idempotency-Key`: required on the money routes (transactions, holds), optional on other POSTs. */
export const IdempotencyKeyHeader = (required: boolean) =>
  ApiHeader({
    name: 'Idempotency-Key',
    required,
    description: required
      ? 'Required: a retry under the same key answers what the first request answered, and does nothing again.'
      : 'Optional: a retry under the same key answers what the first request answered, and does nothing again.',
    schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
    example: 'order-981-pay',
  });

/** `Prefer: wait=N` (RFC 7240). */
export const PreferHeader = () =>
  ApiHeader({
    name: 'Prefer',
    required: false,
    description: 'wait=N (N ≤ 30): answer 200 as soon as the transaction is final, or 202 after N seconds.',
    schema: { type: 'string' },
    example: 'wait=5',
  });

/** A replayed answer says so. */
export const REPLAYED: Headers = {
  'Idempotent-Replayed': {
    description: 'Present on a replayed answer.',
    schema: { type: 'string', enum: ['true'] },
  },
};

/** Where the new (or affected) resource is. */
export const location = (example: string): Headers => ({
  Location: { description: 'The resource.', schema: { type: 'string', example } },
});

/** A success: its body's class, an example, and the headers it carries (the rate-limit ones always). */
export const Answer = (
  status: number,
  type: Type<unknown> | null,
  description: string,
  options: { example?: unknown; headers?: Headers } = {},
) =>
  applyDecorators(
    ApiResponse({
      status,
      description,
      ...(type ? { type } : {}),
      ...(options.example !== undefined ? { example: options.example } : {}),
      headers: { ...RATE_LIMIT_HEADERS, ...options.headers },
    }),
  );
