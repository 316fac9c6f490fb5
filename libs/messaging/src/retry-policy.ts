import { isDomainError } from '#domain';

/** An error that no retry can fix: malformed message, unknown type, broken business rule. */
export class PermanentMessageError extends Error {
  constructor(
    message: string,
    readonly code = 'permanent_failure',
  ) {
    super(message);
    this.name = 'PermanentMessageError';
  }
}

export type RetryDecision =
  | { action: 'retry'; delayMs: number }
  | { action: 'dead-letter'; reason: 'permanent' | 'attempts_exhausted' };

/** Whether an error is worth retrying. The one place this is decided for consumers. */
export function isPermanent(error: unknown): boolean {
  return error instanceof PermanentMessageError || isDomainError(error);
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Transient failures (connection lost, deadlock, serialization failure, timeouts, anything
 * unknown) are retried through the delay tiers; permanent ones are dead-lettered at once.
 */
export class RetryPolicy {
  constructor(
    private readonly delaysMs: number[],
    private readonly maxAttempts: number,
  ) {
    if (delaysMs.length === 0) throw new Error('RetryPolicy needs at least one delay');
  }

  /** `attempt` is the 1-based attempt that just failed. */
  decide(error: unknown, attempt: number): RetryDecision {
    if (isPermanent(error)) return { action: 'dead-letter', reason: 'permanent' };
    if (attempt >= this.maxAttempts) return { action: 'dead-letter', reason: 'attempts_exhausted' };
    const tier = Math.min(Math.max(attempt, 1) - 1, this.delaysMs.length - 1);
    return { action: 'retry', delayMs: this.delaysMs[tier] };
  }

  get delays(): readonly number[] {
    return this.delaysMs;
  }
}
