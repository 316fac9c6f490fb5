import { ValidationPipe } from '@nestjs/common';
import type { ValidationError as ClassValidatorError } from 'class-validator';
import { ValidationError, type FieldError } from './problem.js';

/**
 * The one ValidationPipe of an app: DTO classes (class-validator, class-transformer) for bodies,
 * queries and path parameters; unknown fields refused; values transformed to the DTO's types. A
 * failure is the problem+json `validation_error` listing `errors: [{ field, message }]`.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    exceptionFactory: (errors) => new ValidationError(fieldErrorsOf(errors)),
  });
}

/** class-validator's errors, nested ones included, as `{ field, message }` (`filter.status`). */
export function fieldErrorsOf(errors: ClassValidatorError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    // The pipe reports a body that is not an object (an array, a string) under the name "body".
    const whole = !parent && error.constraints?.isObject !== undefined && error.property === 'body';
    const field = whole ? '(body)' : [parent, error.property].filter(Boolean).join('.') || '(body)';
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...fieldErrorsOf(error.children ?? [], field)];
  });
}
