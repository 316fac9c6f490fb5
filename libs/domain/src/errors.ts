/**
 * A broken business rule. Carries a stable snake_case code that the gateway maps to a problem+json
 * answer and the consumer maps to "do not retry": repeating the same input gives the same failure.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
