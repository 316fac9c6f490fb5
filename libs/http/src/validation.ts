import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import type { ValidationError as ClassValidatorError } from 'class-validator';
import { ValidationError, type FieldError } from './problem.js';
import { memoizeValidationMetadata } from './validation-metadata.js';

export interface ValidationPipeOptions {
  /**
   * Runs on a body or query before it is transformed and validated; field errors it returns are
   * the whole answer (the gateway refuses text Postgres cannot store before any other rule).
   */
  precheck?: (value: unknown, metadata: ArgumentMetadata) => FieldError[];
  /** class-validator's errors as the app reports them; fieldErrorsOf unless given. */
  errorsOf?: (errors: ClassValidatorError[]) => FieldError[];
}

/**
 * The one ValidationPipe of an app: DTO classes (class-validator, class-transformer) for bodies,
 * queries and path parameters; unknown fields refused; values transformed to the DTO's types. A
 * failure is the problem+json `validation_error` listing `errors: [{ field, message }]`. Each
 * class's rules are then looked up once for the process (memoizeValidationMetadata).
 */
export function createValidationPipe(options: ValidationPipeOptions = {}): ValidationPipe {
  memoizeValidationMetadata();
  const errorsOf = options.errorsOf ?? ((errors: ClassValidatorError[]) => fieldErrorsOf(errors));
  const settings = {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    exceptionFactory: (errors: ClassValidatorError[]) => new ValidationError(errorsOf(errors)),
  };
  const precheck = options.precheck;
  return new (class extends ValidationPipe {
    override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
      if (metadata.metatype && this.toValidate(metadata)) {
        const refused = precheck?.(value, metadata) ?? [];
        if (refused.length > 0) throw new ValidationError(refused);
        // A body DTO takes a JSON object. Anything else is refused here: class-transformer
        // throws on some values (an integer past 2^53, parsed as a bigint), which was a 500.
        if (metadata.type === 'body' && value !== undefined && !isJsonObject(value))
          throw new ValidationError([{ field: '(body)', message: 'must be a JSON object' }]);
      }
      return super.transform(value, metadata);
    }
  })(settings);
}

function isJsonObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
