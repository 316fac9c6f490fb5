import type { PipeTransform } from '@nestjs/common';
import { validateSync, type ValidationError } from 'class-validator';
import { PermanentMessageError } from './retry-policy.js';

/**
 * Checks a consumed message's payload against a class-validator class, at the consumer's edge:
 * `@Payload(new ValidPayload(TransactionRequestedMessage, 'malformed_command'))`. A payload that
 * does not fit is a poison message: a PermanentMessageError with `code`, dead-lettered at once,
 * before the handler runs. The handler gets the payload as parsed (integers past 2^53 stay bigint,
 * nested data untouched): the class only checks it, on a shallow copy.
 */
export class ValidPayload<T extends object> implements PipeTransform<unknown, T> {
  constructor(
    private readonly type: new () => T,
    private readonly code: string,
  ) {}

  transform(payload: unknown): T {
    return validPayload(this.type, payload, this.code);
  }
}

/** The payload, typed, if it passes `type`'s constraints; else a PermanentMessageError. */
export function validPayload<T extends object>(type: new () => T, payload: unknown, code: string): T {
  const name = type.name.replace(/Message$/, '');
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new PermanentMessageError(`${name}: the payload is not an object`, code);
  }
  const errors = validateSync(Object.assign(new type(), payload), {
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
  });
  if (errors.length > 0) throw new PermanentMessageError(`${name}: ${describe(errors)}`, code);
  return payload as T;
}

/** "tenantId must be a string; eventIds must contain at most 500 elements" (no values: they may be data). */
function describe(errors: ValidationError[], parent = ''): string {
  return errors
    .flatMap((e) => {
      const field = parent ? `${parent}.${e.property}` : e.property;
      const own = Object.values(e.constraints ?? {});
      const nested = e.children?.length ? [describe(e.children, field)] : [];
      return [...own, ...nested];
    })
    .join('; ');
}
