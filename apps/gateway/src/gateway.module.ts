import { randomBytes } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { BrokerReadiness, MessagingModule } from '#messaging';
import { LedgerModule } from '#ledger';
import { ReceiptsModule } from '#receipts';
import { Metrics, ObservabilityModule } from '#observability';
import { createRateLimiter } from '#http';
import {
  DatabaseReadiness,
  Gate,
  NeighbourSets,
  PersistenceModule,
  ProductRepository,
  connectProductCache,
} from '#persistence';
import { AccountsController } from './accounts/accounts.controller.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { GatewayGuard } from './auth/gateway.guard.js';
import { GatewayRateLimits } from './auth/rate-limits.js';
import type { GatewayConfig } from './config.js';
import { CustomerSessionsController } from './customer-sessions/customer-sessions.controller.js';
import {
  CUSTOMER_SESSION_OPTIONS,
  CustomerSessions,
  type CustomerSessionOptions,
} from './customer-sessions/customer-sessions.js';
import { HoldsController } from './holds/holds.controller.js';
import { HoldsService } from './holds/holds.service.js';
import { ProblemFilter } from '#http';
import { gatewayValidationPipe } from './http/validation.js';
import { DiscoveryController } from './products/discovery.controller.js';
import { Discovery, NEIGHBOUR_SETS } from './products/discovery.js';
import { ProductsController } from './products/products.controller.js';
import {
  PRODUCT_CACHE_ENABLED,
  PRODUCT_CACHE_STORE,
  ProductCache,
  cacheMetrics,
} from './products/product-cache.js';
import { ProviderEventsController } from './provider-events/provider-events.controller.js';
import { CancelOrder } from './orders/cancel-order.use-case.js';
import { OrdersController } from './orders/orders.controller.js';
import { INVENTORY_STRATEGY, inventoryStrategy } from './orders/inventory-locking.js';
import { PlaceOrder } from './orders/place-order.use-case.js';
import { IdempotencyService } from './idempotency/idempotency.service.js';
import { IdempotencyRetention } from './idempotency/idempotency-retention.js';
import { AcceptBatcher } from './transactions/create-transaction/accept-batcher.js';
import { CreateTransaction } from './transactions/create-transaction/create-transaction.use-case.js';
import { TransactionCompletion } from './transactions/transaction-completion.js';
import { TransactionsController } from './transactions/transactions.controller.js';
import { EventsController } from './usage/events.controller.js';
import { EventTypesController } from './usage/event-types.controller.js';
import { IngestUsage } from './usage/ingest-usage.use-case.js';
import { MetersController } from './usage/meters.controller.js';
import { UsageController } from './usage/usage.controller.js';
import { WebhookEndpointsController } from './webhooks/webhook-endpoints.controller.js';
import { WebhookUrlPolicy, type WebhookUrlOptions } from './webhooks/webhook-url.policy.js';

/** The public REST API. Writes intents and outbox rows; hosts an outbox relay. */
@Module({})
export class GatewayModule {
  static register(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ObservabilityModule.forRoot({
          app: 'gateway',
          logLevel: config.LOG_LEVEL,
          readiness: [DatabaseReadiness],
          // Accepted work waits in the outbox: the API serves while the broker is away.
          degradedBy: [BrokerReadiness],
        }),
        PersistenceModule.forRoot(config, 'tally-gateway', config.WEBHOOK_ENCRYPTION_KEYS),
        MessagingModule.forRoot({ app: 'gateway', amqp: config, outbox: config }),
        LedgerModule,
        ReceiptsModule,
      ],
      controllers: [
        AccountsController,
        TransactionsController,
        HoldsController,
        EventsController,
        EventTypesController,
        MetersController,
        UsageController,
        WebhookEndpointsController,
        ProductsController,
        DiscoveryController,
        OrdersController,
        CustomerSessionsController,
        ProviderEventsController,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ProblemFilter },
        {
          provide: 'PROVIDER_EVENTS_OPTIONS',
          useValue: {
            secret: config.PAYOUT_PROVIDER_WEBHOOK_SECRET,
            toleranceSeconds: config.PROVIDER_EVENTS_TOLERANCE_SECONDS,
          },
        },
        { provide: APP_PIPE, useFactory: gatewayValidationPipe },
        {
          provide: IdempotencyRetention,
          useFactory: (dataSource: DataSource) =>
            new IdempotencyRetention(dataSource, config.IDEMPOTENCY_RETENTION_HOURS),
          inject: [DataSource],
        },
        {
          provide: GatewayRateLimits,
          useFactory: (metrics: Metrics) =>
            new GatewayRateLimits(
              config.RATE_LIMIT_ENABLED ? createRateLimiter(config, metrics) : null,
              metrics,
              config,
            ),
          inject: [Metrics],
        },
        ApiKeyGuard,
        // Every route, by credential: API keys, customer access tokens, or none (docs/security.md).
        { provide: APP_GUARD, useClass: GatewayGuard },
        CustomerSessions,
        {
          provide: CUSTOMER_SESSION_OPTIONS,
          useValue: {
            // Unset (development and tests only: production requires it), a key per start.
            secret: config.CUSTOMER_TOKEN_SECRET
              ? new TextEncoder().encode(config.CUSTOMER_TOKEN_SECRET)
              : randomBytes(32),
            sessionTtlSeconds: config.CUSTOMER_SESSION_TTL_SECONDS,
          } satisfies CustomerSessionOptions,
        },
        IdempotencyService,
        CreateTransaction,
        AcceptBatcher,
        {
          provide: 'ACCEPT_BATCH_OPTIONS',
          useValue: { maxBatch: config.ACCEPT_BATCH_MAX, inFlight: config.ACCEPT_BATCHES_IN_FLIGHT },
        },
        TransactionCompletion,
        HoldsService,
        PlaceOrder,
        {
          provide: INVENTORY_STRATEGY,
          useFactory: (products: ProductRepository) => inventoryStrategy(config, products),
          inject: [ProductRepository],
        },
        CancelOrder,
        Discovery,
        // Every product write invalidates (with REDIS_URL), whether this gateway reads the cache or not.
        {
          provide: PRODUCT_CACHE_STORE,
          useFactory: (dataSource: DataSource, metrics: Metrics) =>
            connectProductCache(dataSource, config, cacheMetrics(metrics)),
          inject: [DataSource, Metrics],
        },
        { provide: PRODUCT_CACHE_ENABLED, useValue: config.PRODUCT_CACHE === 'on' },
        ProductCache,
        {
          provide: NEIGHBOUR_SETS,
          useFactory: () =>
            config.REDIS_URL
              ? NeighbourSets.connect(config.REDIS_URL, config.REDIS_KEY_PREFIX, config.REDIS_TIMEOUT_MS)
              : null,
        },
        { provide: 'ORDER_OPTIONS', useValue: { reservationSeconds: config.ORDER_RESERVATION_TTL } },
        {
          provide: 'ORDER_PLACEMENT_GATE',
          useValue: new Gate(
            config.ORDER_PLACEMENT_CONCURRENCY || Math.max(1, Math.floor(config.DATABASE_POOL_MAX / 2)),
            config.ORDER_PLACEMENT_MAX_WAIT_MS,
          ),
        },
        IngestUsage,
        WebhookUrlPolicy,
        {
          provide: 'WEBHOOK_URL_OPTIONS',
          useValue: {
            production: config.NODE_ENV === 'production',
            allowedHosts: config.WEBHOOK_ALLOWED_HOSTS,
            dnsServers: config.WEBHOOK_DNS_SERVERS,
            dnsTimeoutMs: config.WEBHOOK_DNS_TIMEOUT_MS,
          } satisfies WebhookUrlOptions,
        },
      ],
    };
  }
}
