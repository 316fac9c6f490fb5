import { Global, Module, type DynamicModule } from '@nestjs/common';
import { LedgerModule } from '#ledger';
import type { WorkerConfig } from '../config.js';
import { PayoutCircuit, PayoutProviderReadiness } from './payout-circuit.js';
import { PayoutDispatcher } from './payout-dispatcher.js';
import { PayoutReconciliationJob } from './payout-reconciliation.job.js';
import { HttpPayoutProvider, PAYOUT_PROVIDER } from '#payouts';
import { SettlePayout } from './settle-payout.use-case.js';

/**
 * Withdrawals paid out through the provider at PAYOUT_PROVIDER_URL: the connector, its circuit
 * breaker, the dispatcher and the settlement. Global so that the readiness check (built by the
 * observability module) finds the breaker.
 */
@Global()
@Module({})
export class PayoutsModule {
  static register(config: WorkerConfig & { PAYOUT_PROVIDER_URL: string }): DynamicModule {
    return {
      module: PayoutsModule,
      imports: [LedgerModule],
      providers: [
        {
          provide: PAYOUT_PROVIDER,
          useValue: new HttpPayoutProvider({
            url: config.PAYOUT_PROVIDER_URL,
            apiKey: config.PAYOUT_PROVIDER_API_KEY,
            timeoutMs: config.PAYOUT_PROVIDER_TIMEOUT_MS,
          }),
        },
        {
          provide: 'PAYOUT_BREAKER_OPTIONS',
          useValue: {
            failureThreshold: config.PAYOUT_BREAKER_FAILURES,
            coolDownMs: config.PAYOUT_BREAKER_COOLDOWN_MS,
          },
        },
        {
          provide: 'PAYOUT_DISPATCH_OPTIONS',
          useValue: {
            intervalMs: config.PAYOUT_DISPATCH_INTERVAL_MS,
            concurrency: config.PAYOUT_CONCURRENCY,
            timeoutMs: config.PAYOUT_PROVIDER_TIMEOUT_MS,
            maxAttempts: config.PAYOUT_MAX_ATTEMPTS,
            retryBaseMs: config.PAYOUT_RETRY_BASE_MS,
            retryMaxMs: config.PAYOUT_RETRY_MAX_MS,
            outcomeAfterMs: config.PAYOUT_OUTCOME_AFTER_MS,
            leaseMs: config.PAYOUT_LEASE_MS,
          },
        },
        PayoutCircuit,
        PayoutProviderReadiness,
        SettlePayout,
        PayoutDispatcher,
        PayoutReconciliationJob,
        {
          provide: 'PAYOUT_RECONCILIATION_OPTIONS',
          useValue: {
            intervalMs: config.PAYOUT_RECONCILE_INTERVAL_MS,
            windowMs: config.PAYOUT_RECONCILE_WINDOW_HOURS * 3_600_000,
          },
        },
      ],
      exports: [PAYOUT_PROVIDER, PayoutCircuit, PayoutProviderReadiness, SettlePayout, PayoutDispatcher],
    };
  }
}
