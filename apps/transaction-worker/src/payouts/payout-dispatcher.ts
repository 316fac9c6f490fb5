import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  PAYOUT_FAILURES,
  contradictionOf,
  outcomeOf,
  payoutRetryDelayMs,
  type ProviderPayoutStatus,
} from '#domain';
import { faultPoint } from '#messaging';
import { Metrics } from '#observability';
import { PayoutRepository, type PayoutRecord, type ProviderEventRecord } from '#persistence';
import { PayoutCircuit } from './payout-circuit.js';
import { PAYOUT_PROVIDER, type PayoutProvider, type ProviderPayout } from '#payouts';
import { SettlePayout, type PayoutOutcome } from './settle-payout.use-case.js';

export interface PayoutDispatchOptions {
  intervalMs: number;
  concurrency: number;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  outcomeAfterMs: number;
  /** How long a claimed payout is its dispatcher's; a dispatcher that died gives it up after this. */
  leaseMs: number;
}

const EVENT_BATCH = 100;

/**
 * Drives payouts from the `payouts` table, outside any transaction that holds locks while it
 * calls the provider. Each tick:
 *
 * 1. applies the provider's webhooks the gateway recorded (`provider_events`);
 * 2. polls the provider for accepted payouts whose outcome is overdue;
 * 3. sends due payouts (leased, so several workers share them and a crashed one's come back),
 *    unless the circuit breaker is open: 2xx → accepted; 4xx → failed and released; timeout, 5xx
 *    or connection error → queued again after a backoff with jitter, with the same idempotency
 *    key (the transaction id), until the last attempt, after which the outcome is `unknown`.
 */
@Injectable()
export class PayoutDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(PayoutDispatcher.name);
  private running = false;
  private loop: Promise<void> | undefined;
  private inFlight = 0;
  private readonly settled = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PayoutRepository) private readonly payouts: PayoutRepository,
    @Inject(PAYOUT_PROVIDER) private readonly provider: PayoutProvider,
    @Inject(PayoutCircuit) private readonly circuit: PayoutCircuit,
    @Inject(SettlePayout) private readonly settle: SettlePayout,
    @Inject(Metrics) private readonly metrics: Metrics,
    @Inject('PAYOUT_DISPATCH_OPTIONS') private readonly options: PayoutDispatchOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.settled]);
  }

  /**
   * One pass of the three duties (the loop runs it every interval; tests may call it). Each runs
   * whatever became of the one before: a database error applying webhooks must not keep due
   * payouts from being sent, nor the reverse.
   */
  async tick(): Promise<void> {
    const duties: [string, () => Promise<void>][] = [
      ['applying provider events', () => this.applyEvents()],
      ['polling overdue payouts', () => this.pollOverdue()],
      ['sending due payouts', () => this.dispatchDue()],
    ];
    for (const [what, duty] of duties) {
      try {
        await duty();
      } catch (error) {
        this.log.warn(`payout dispatch: ${what} failed: ${(error as Error).message}`);
      }
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.tick();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.options.intervalMs);
      });
    }
  }

  /**
   * The provider's webhooks as the gateway recorded them, applied in the order received, each in
   * a transaction of its own. One settlement's locks (payout, withdrawal, hold, then its accounts
   * in id order) are then all a transaction holds: several in one would take a second payout's
   * accounts while holding the first's (the shared outside-world account among them), out of
   * order, and deadlock with the command batches and with polls settling the same payouts.
   *
   * An event whose application fails (its payout locked past the statement timeout, any database
   * error) is set aside until a retry time, backing off like a payout's attempts, and the pass
   * ends there (the next one goes on with the others): one event that keeps failing delays only
   * its own payout's events, and at most one such failure is waited for per pass.
   */
  private async applyEvents(): Promise<void> {
    for (let i = 0; i < EVENT_BATCH; i++) {
      let claimedEvent: ProviderEventRecord | undefined;
      try {
        const applied = await this.dataSource.transaction(async (manager) => {
          const [event] = await this.payouts.claimEvents(manager, 1);
          claimedEvent = event;
          if (!event) return null;
          const outcome = event.status ? outcomeOf(event.status as ProviderPayoutStatus) : null;
          let settled: PayoutOutcome | null = null;
          if (event.reference && outcome) {
            const candidate = this.outcome(outcome, event.status!, event.payoutId);
            if (await this.settle.applyIn(manager, event.reference, candidate)) settled = candidate;
            else await this.contradicts(manager, event.reference, outcome, event.status!, event.payoutId);
          }
          await this.payouts.markEventApplied(manager, event.id);
          return settled;
        });
        if (applied) this.settle.committed(applied, 'webhook');
      } catch (error) {
        // Nothing claimed: the claim itself failed, and so would the rest of this pass.
        if (!claimedEvent) throw error;
        await this.setAside(claimedEvent, error as Error);
        // The rest wait for the next pass: a failure may have cost a whole statement timeout,
        // and polls and sends come first, not a hundred more such waits.
        return;
      }
      if (!claimedEvent) return;
    }
  }

  private async setAside(event: ProviderEventRecord, error: Error): Promise<void> {
    const attempt = event.attempts + 1;
    // The payouts' own backoff (with jitter), without their last attempt: an event is never dropped.
    const delay = payoutRetryDelayMs(attempt, {
      baseMs: this.options.retryBaseMs,
      maxMs: this.options.retryMaxMs,
      maxAttempts: Infinity,
    })!;
    this.metrics.providerEventsSetAside.inc();
    this.log.warn(
      `provider event ${event.id} (payout ${event.reference ?? '?'}) failed to apply, attempt ${attempt}; again in ${delay} ms: ${error.message}`,
    );
    await this.payouts.markEventFailed(
      this.dataSource,
      event.id,
      error.message,
      new Date(Date.now() + delay),
    );
  }

  /**
   * An event for a payout already final the other way — typically a bank's return days after
   * the payout was paid — or paid under a second provider payout id changes nothing by itself
   * (final is final), but is not dropped either: it is recorded as a mismatch for an operator, as
   * reconciliation would, whatever its window.
   */
  private async contradicts(
    manager: EntityManager,
    transactionId: string,
    outcome: 'succeeded' | 'failed',
    providerStatus: string,
    providerPayoutId: string | null,
  ): Promise<void> {
    const payout = await this.payouts.find(manager, transactionId);
    if (!payout) return;
    // Paid again under another provider payout id: the provider paid the withdrawal twice.
    const secondPayout =
      outcome === 'succeeded' &&
      providerPayoutId !== null &&
      payout.providerPayoutId !== null &&
      providerPayoutId !== payout.providerPayoutId;
    const kind =
      contradictionOf(payout.status, outcome) ??
      (payout.status === 'succeeded' && secondPayout ? 'paid_twice' : null);
    if (!kind) return;
    this.log.warn(
      `payout ${transactionId}: the provider says ${providerStatus}, Tally has it ${payout.status}`,
    );
    await this.payouts.recordMismatches(manager, [
      {
        transactionId,
        tenantId: payout.tenantId,
        kind,
        tallyStatus: payout.status,
        providerStatus,
        providerPayoutId: providerPayoutId ?? payout.providerPayoutId,
      },
    ]);
  }

  /** Accepted payouts with no outcome by now: asked for, one call each (the breaker permitting). */
  private async pollOverdue(): Promise<void> {
    if (this.circuit.state === 'open') return;
    const overdue = await this.payouts.claimOverdue(
      this.dataSource,
      this.options.concurrency,
      this.options.outcomeAfterMs,
    );
    for (const payout of overdue) {
      if (!payout.providerPayoutId || !this.circuit.tryAcquire()) continue;
      let found: ProviderPayout | null;
      try {
        found = await this.provider.find(payout.providerPayoutId);
        this.circuit.success();
      } catch (error) {
        this.circuit.failure((error as Error).message);
        this.log.warn(`polling payout ${payout.transactionId} failed: ${(error as Error).message}`);
        continue;
      }
      // The database failing here is not the provider's: it counts nothing against the breaker,
      // and the payout is polled again when its outcome is next overdue.
      const outcome = found ? outcomeOf(found.status) : null;
      if (found && outcome) {
        await this.settle
          .execute(payout.transactionId, this.outcome(outcome, found.status, found.id), 'poll')
          .catch((error: Error) =>
            this.log.warn(`settling polled payout ${payout.transactionId} failed: ${error.message}`),
          );
      }
    }
  }

  private async dispatchDue(): Promise<void> {
    const state = this.circuit.state;
    if (state === 'open') return;
    // Half-open: one trial call decides whether the rest may go.
    const free =
      state === 'half-open'
        ? Math.min(1, this.options.concurrency - this.inFlight)
        : this.options.concurrency - this.inFlight;
    if (free <= 0) return;
    const due = await this.payouts.claimDue(this.dataSource, free, this.options.leaseMs);
    for (const payout of due) this.track(this.attempt(payout));
  }

  private track(work: Promise<void>): void {
    this.inFlight++;
    const done = work
      .catch((error: Error) => this.log.error(`payout attempt failed unexpectedly: ${error.message}`))
      .finally(() => {
        this.inFlight--;
        this.settled.delete(done);
      });
    this.settled.add(done);
  }

  private async attempt(payout: PayoutRecord): Promise<void> {
    if (!this.circuit.tryAcquire()) {
      await this.payouts.release(this.dataSource, payout);
      return;
    }
    const result = await this.provider.submit({
      idempotencyKey: payout.transactionId,
      reference: payout.transactionId,
      amount: payout.amount,
      currency: payout.currency,
    });
    faultPoint('payout.after-provider-call');
    const count = (outcome: string) =>
      this.metrics.payoutAttempts.inc({ provider: this.provider.name, outcome });
    switch (result.kind) {
      case 'accepted': {
        this.circuit.success();
        count('accepted');
        await this.payouts.recordAttempt(this.dataSource, payout, {
          status: 'accepted',
          providerPayoutId: result.payout.id,
          outcomeDueAt: new Date(Date.now() + this.options.outcomeAfterMs),
        });
        // A repeated call may find the payout settled already.
        const outcome = outcomeOf(result.payout.status);
        if (outcome)
          await this.settle.execute(
            payout.transactionId,
            this.outcome(outcome, result.payout.status, result.payout.id),
            'answer',
          );
        return;
      }
      case 'refused':
        this.circuit.success();
        if (payout.attempts > 1) {
          // An earlier attempt may have reached the provider (no answer is not a no), and this
          // refusal may be about that one rather than a decision on the payout: the outcome is
          // unknown, the money stays held, and reconciliation or an operator settles it.
          count('unknown');
          this.log.warn(
            `payout ${payout.transactionId}: refused on attempt ${payout.attempts}, after attempts without an answer; outcome unknown (${result.reason})`,
          );
          await this.payouts.recordAttempt(this.dataSource, payout, {
            status: 'unknown',
            error: result.reason,
          });
          return;
        }
        count('refused');
        this.log.warn(`payout ${payout.transactionId} refused by the provider: ${result.reason}`);
        // Only while this attempt still owns the payout; the tenant sees the status code, never
        // the provider's words.
        await this.settle.execute(
          payout.transactionId,
          {
            outcome: 'failed',
            providerPayoutId: null,
            failure: {
              code: PAYOUT_FAILURES.refused,
              message: `The payment provider refused the payout (HTTP ${result.statusCode}).`,
            },
          },
          'answer',
          { status: 'queued', attempts: payout.attempts },
        );
        return;
      case 'unavailable': {
        this.circuit.failure(result.reason);
        const delay = payoutRetryDelayMs(payout.attempts, {
          baseMs: this.options.retryBaseMs,
          maxMs: this.options.retryMaxMs,
          maxAttempts: this.options.maxAttempts,
        });
        count(delay === null ? 'unknown' : 'retrying');
        if (delay === null) {
          this.log.warn(
            `payout ${payout.transactionId}: outcome unknown after ${payout.attempts} attempts (${result.reason})`,
          );
          await this.payouts.recordAttempt(this.dataSource, payout, {
            status: 'unknown',
            error: result.reason,
          });
        } else {
          await this.payouts.recordAttempt(this.dataSource, payout, {
            status: 'queued',
            retryAt: new Date(Date.now() + delay),
            error: result.reason,
          });
        }
      }
    }
  }

  /** A provider status's outcome, with the failure a withdrawal records when it is not paid. */
  private outcome(
    outcome: 'succeeded' | 'failed',
    status: string,
    providerPayoutId: string | null,
  ): PayoutOutcome {
    if (outcome === 'succeeded') return { outcome, providerPayoutId };
    const returned = status === 'returned';
    return {
      outcome,
      providerPayoutId,
      failure: {
        code: returned ? PAYOUT_FAILURES.returned : PAYOUT_FAILURES.failed,
        message: returned
          ? 'The payment provider returned the payout; the funds are back on the account.'
          : 'The payment provider could not pay the payout out; the funds are back on the account.',
      },
    };
  }
}
