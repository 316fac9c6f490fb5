import { Inject, Injectable } from '@nestjs/common';
import { CircuitBreaker, type BreakerOptions, type BreakerState } from '#domain';
import { Metrics, type ReadinessCheck } from '#observability';
import { PAYOUT_PROVIDER, type PayoutProvider } from '#payouts';

const GAUGE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The provider's circuit breaker in this worker (libs/domain's rule on the wall clock), its state
 * kept in the `tally_payout_breaker_state` gauge. While it is open no call is made: payouts stay
 * queued and are drained once a trial call succeeds.
 */
@Injectable()
export class PayoutCircuit {
  private readonly breaker: CircuitBreaker;

  constructor(
    @Inject(PAYOUT_PROVIDER) private readonly provider: PayoutProvider,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject('PAYOUT_BREAKER_OPTIONS') options: BreakerOptions,
  ) {
    this.breaker = new CircuitBreaker(options);
    this.publish();
  }

  get state(): BreakerState {
    return this.breaker.state(Date.now());
  }

  get consecutiveFailures(): number {
    return this.breaker.consecutiveFailures;
  }

  tryAcquire(): boolean {
    const allowed = this.breaker.tryAcquire(Date.now());
    this.publish();
    return allowed;
  }

  success(): void {
    this.breaker.success();
    this.publish();
  }

  failure(): void {
    this.breaker.failure(Date.now());
    this.publish();
  }

  private publish(): void {
    this.metrics.payoutBreakerState.set({ provider: this.provider.name }, GAUGE[this.state]);
  }
}

/**
 * The breaker in /health/ready: shown, never failing readiness (the worker still takes
 * withdrawals while the provider is down). Open or half-open reads as `degraded`.
 */
@Injectable()
export class PayoutProviderReadiness implements ReadinessCheck {
  readonly name = 'payoutProvider';

  constructor(@Inject(PayoutCircuit) private readonly circuit: PayoutCircuit) {}

  async check(): Promise<void> {
    const state = this.circuit.state;
    if (state !== 'closed') {
      throw new Error(
        `circuit breaker ${state} after ${this.circuit.consecutiveFailures} consecutive failures; payouts wait`,
      );
    }
  }
}
