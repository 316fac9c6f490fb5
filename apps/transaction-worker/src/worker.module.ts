import { Module, type DynamicModule } from '@nestjs/common';
import { BrokerReadiness, MessagingModule } from '#messaging';
import { LedgerModule } from '#ledger';
import { Metrics, ObservabilityModule } from '#observability';
import {
  BoughtTogether,
  DatabaseReadiness,
  NeighbourSets,
  PersistenceModule,
  ProductCacheStore,
  connectProductCache,
} from '#persistence';
import { DataSource } from 'typeorm';
import { ApplyTransactions } from './apply-transaction/apply-transactions.use-case.js';
import { TransactionBatcher } from './apply-transaction/transaction-batcher.js';
import { TransactionCommandsHandler } from './apply-transaction/transaction-commands.handler.js';
import type { WorkerConfig } from './config.js';
import { HoldExpirySweep } from './holds/hold-expiry.sweep.js';
import { OrderCommandsHandler } from './orders/order-commands.handler.js';
import { OrderReservationSweep } from './orders/order-reservation.sweep.js';
import { BoughtTogetherJob } from './recommendations/bought-together.job.js';
import { EventSchemas } from './usage/event-schemas.js';
import { ProcessUsage } from './usage/process-usage.use-case.js';
import { Gate } from '#persistence';
import { UsageCommandsHandler } from './usage/usage-commands.handler.js';
import { PayoutProviderReadiness } from './payouts/payout-circuit.js';
import { PayoutsModule } from './payouts/payouts.module.js';

/**
 * Applies commands from `transaction-worker.commands` to the ledger (transactions, usage), releases
 * expired holds, and hosts an outbox relay.
 */
@Module({})
export class WorkerModule {
  static register(config: WorkerConfig): DynamicModule {
    const payoutUrl = config.PAYOUT_PROVIDER_URL;
    return {
      module: WorkerModule,
      imports: [
        ObservabilityModule.forRoot({
          app: 'transaction-worker',
          logLevel: config.LOG_LEVEL,
          readiness: [DatabaseReadiness, BrokerReadiness],
          degradedBy: payoutUrl ? [PayoutProviderReadiness] : [],
        }),
        PersistenceModule.forRoot(config, 'tally-transaction-worker'),
        MessagingModule.forRoot({ app: 'transaction-worker', amqp: config, outbox: config }),
        LedgerModule,
        ...(payoutUrl ? [PayoutsModule.register({ ...config, PAYOUT_PROVIDER_URL: payoutUrl })] : []),
      ],
      controllers: [TransactionCommandsHandler, UsageCommandsHandler, OrderCommandsHandler],
      providers: [
        ApplyTransactions,
        { provide: 'PAYOUT_MODE', useValue: { enabled: payoutUrl !== undefined } },
        TransactionBatcher,
        ProcessUsage,
        EventSchemas,
        HoldExpirySweep,
        OrderReservationSweep,
        { provide: 'ORDER_SWEEP_OPTIONS', useValue: { intervalMs: config.ORDER_SWEEP_INTERVAL_MS } },
        {
          provide: BoughtTogether,
          useFactory: (dataSource: DataSource) =>
            new BoughtTogether(
              dataSource,
              config.REDIS_URL
                ? NeighbourSets.connect(config.REDIS_URL, config.REDIS_KEY_PREFIX, config.REDIS_TIMEOUT_MS)
                : null,
            ),
          inject: [DataSource],
        },
        BoughtTogetherJob,
        // Completing or releasing an order moves stock: the gateway's product cache is told (REDIS_URL).
        {
          provide: ProductCacheStore,
          useFactory: (dataSource: DataSource, metrics: Metrics) =>
            connectProductCache(dataSource, config, {
              error: (cache, operation) => metrics.cacheErrors.inc({ cache, operation }),
              fillRefused: (cache) => metrics.cacheFillsRefused.inc({ cache }),
            }),
          inject: [DataSource, Metrics],
        },
        {
          provide: 'BOUGHT_TOGETHER_OPTIONS',
          useValue: { intervalMs: config.RECOMMENDATIONS_INTERVAL * 1000 },
        },
        {
          provide: 'HOLD_SWEEP_OPTIONS',
          useValue: { intervalMs: config.HOLD_SWEEP_INTERVAL_MS, batchSize: config.HOLD_SWEEP_BATCH_SIZE },
        },
        { provide: 'USAGE_GATE', useValue: new Gate(config.USAGE_BATCH_CONCURRENCY) },
        { provide: 'ORDER_GATE', useValue: new Gate(config.ORDER_CONCURRENCY) },
        {
          provide: 'USAGE_OPTIONS',
          useValue: { highValueThreshold: BigInt(config.USAGE_HIGH_VALUE_THRESHOLD) },
        },
        {
          provide: 'BATCH_OPTIONS',
          useValue: { maxSize: config.WORKER_BATCH_SIZE, maxConcurrent: config.WORKER_BATCH_CONCURRENCY },
        },
      ],
    };
  }
}
