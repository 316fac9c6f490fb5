export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before one trial call is let through (half-open). */
  coolDownMs: number;
}

/**
 * A circuit breaker for calls to one provider: closed (calls go), open after `failureThreshold`
 * consecutive failures (no calls for `coolDownMs`), then half-open (one trial call: a success
 * closes it, a failure opens it again). Time is given by the caller, so it is a pure rule.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;

  constructor(private readonly options: BreakerOptions) {
    if (options.failureThreshold < 1) throw new RangeError('failureThreshold must be at least 1');
  }

  /** The state at `now` (an open breaker whose cool-down has passed is half-open). */
  state(now: number): BreakerState {
    if (this.current === 'open' && now - this.openedAt >= this.options.coolDownMs) return 'half-open';
    return this.current;
  }

  /** Whether a call may be made at `now`; in half-open, only one trial at a time. */
  tryAcquire(now: number): boolean {
    const state = this.state(now);
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.current = 'half-open';
    this.trialInFlight = true;
    return true;
  }

  /** The provider answered (2xx or a definite 4xx): it is up. */
  success(): void {
    this.current = 'closed';
    this.failures = 0;
    this.trialInFlight = false;
  }

  /** A timeout, 5xx or connection error. */
  failure(now: number): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.options.failureThreshold) {
      this.current = 'open';
      this.openedAt = now;
    }
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}
