import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CircuitBreaker, type BreakerOptions, type BreakerState } from '#domain';
import { Metrics, type ReadinessCheck } from '#observability';
import { PAYOUT_PROVIDER, type PayoutProvider } from '#payouts';
import { PayoutBreakerRepository } from '#persistence';

const GAUGE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The provider's circuit breaker in this worker (libs/domain's rule on the wall clock), its state
 * kept in the `tally_payout_breaker_state` gauge and, on each transition and failure, in
 * `payout_breakers` (what the admin shows, whichever replica saw it). While it is open no call is
 * made: payouts stay queued and are drained once a trial call succeeds.
 */
@Injectable()
export class PayoutCircuit implements OnApplicationBootstrap {
  private readonly log = new Logger(PayoutCircuit.name);
  private readonly breaker: CircuitBreaker;
  private reported: { state: BreakerState; failures: number; since: Date; retryAt: Date | null } = {
    state: 'closed',
    failures: 0,
    since: new Date(),
    retryAt: null,
  };
  /** Reports are written one after another, in the order of the transitions. */
  private writes: Promise<void> = Promise.resolve();
  private readonly reporter = `${hostname()}:${process.pid}`;

  constructor(
    @Inject(PAYOUT_PROVIDER) private readonly provider: PayoutProvider,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PayoutBreakerRepository) private readonly breakers: PayoutBreakerRepository,
    @Inject('PAYOUT_BREAKER_OPTIONS') private readonly options: BreakerOptions,
  ) {
    this.breaker = new CircuitBreaker(options);
    this.publish();
  }

  /** A (re)started worker's breaker is closed: said so, or the admin would show the last one's. */
  onApplicationBootstrap(): void {
    this.record(null);
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

  /** A timeout, 5xx or connection error (`reason`: what it was, kept as the last error). */
  failure(reason?: string): void {
    this.breaker.failure(Date.now());
    this.publish(reason ?? 'failed');
  }

  private publish(failure?: string): void {
    const state = this.state;
    this.metrics.payoutBreakerState.set({ provider: this.provider.name }, GAUGE[state]);
    const failures = this.consecutiveFailures;
    if (state === this.reported.state && !failure && failures === this.reported.failures) return;
    const now = new Date();
    this.reported = {
      state,
      failures,
      since: state === this.reported.state ? this.reported.since : now,
      // Each failure while open starts the cool-down again (libs/domain's rule).
      retryAt:
        state !== 'open'
          ? null
          : failure
            ? new Date(now.getTime() + this.options.coolDownMs)
            : this.reported.retryAt,
    };
    this.record(failure ? { message: failure.slice(0, 500), at: now } : null);
  }

  private record(failure: { message: string; at: Date } | null): void {
    const { state, failures, since, retryAt } = this.reported;
    const report = {
      provider: this.provider.name,
      state,
      since,
      consecutiveFailures: failures,
      retryAt,
      lastError: failure?.message ?? null,
      lastFailureAt: failure?.at ?? null,
      reportedBy: this.reporter,
    };
    this.writes = this.writes
      .then(() => this.breakers.report(this.dataSource, report))
      .catch((error: Error) => this.log.warn(`recording the payout breaker failed: ${error.message}`));
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
