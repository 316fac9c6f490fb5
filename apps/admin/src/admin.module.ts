import { randomBytes } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { cellOf } from '#config';
import { BrokerReadiness, MessagingModule } from '#messaging';
import { LedgerModule } from '#ledger';
import { PayoutMismatchesController } from './payouts/payout-mismatches.controller.js';
import { PayoutBreakersController } from './payouts/payout-breakers.controller.js';
import { SettlePayoutMismatch, type PayoutSettlePolicy } from './payouts/settle-payout-mismatch.use-case.js';
import { ReceiptsModule } from '#receipts';
import { Metrics, ObservabilityModule } from '#observability';
import { ProblemFilter, createRateLimiter, createValidationPipe } from '#http';
import { DatabaseReadiness, PersistenceModule } from '#persistence';
import { AuditController } from './audit/audit.controller.js';
import { AuditLog } from './audit/audit-log.js';
import { AuthController } from './auth/auth.controller.js';
import { AuthService, type AuthOptions } from './auth/auth.service.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { OperatorRepository } from './auth/operator.repository.js';
import { RolesGuard } from './auth/roles.guard.js';
import { SessionRepository } from './auth/session.repository.js';
import type { AdminConfig } from './config.js';
import { DeadLetterCollector } from './dead-letters/dead-letter-collector.js';
import { DeadLetterRepository } from './dead-letters/dead-letter.repository.js';
import { DeadLettersController } from './dead-letters/dead-letters.controller.js';
import { DiscardDeadLetter } from './dead-letters/discard-dead-letter.use-case.js';
import { ReplayDeadLetters } from './dead-letters/replay-dead-letters.use-case.js';
import { AccountsController } from './ledger/accounts.controller.js';
import { AdjustmentRepository } from './ledger/adjustment.repository.js';
import { Adjustments, type AdjustmentPolicy } from './ledger/adjustments.js';
import { AdjustmentsController } from './ledger/adjustments.controller.js';
import { CustomerAccountRepository } from './ledger/customer-account.repository.js';
import { RerunRepository } from './ledger/rerun.repository.js';
import { Reruns } from './ledger/reruns.js';
import { SetAccountStatus } from './ledger/set-account-status.use-case.js';
import { TransactionDetail } from './ledger/transaction-detail.js';
import { TransactionSearchRepository } from './ledger/transaction-search.repository.js';
import { TransactionsController } from './ledger/transactions.controller.js';
import { MetricsOverview } from './metrics/metrics-overview.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { MetricsRepository } from './metrics/metrics.repository.js';
import { MetricSampler, type SamplerOptions } from './metrics/metric-sampler.js';
import { SeriesController } from './metrics/series.controller.js';
import { SeriesRepository } from './metrics/series.repository.js';
import { EventsController } from './events/events.controller.js';
import { OrderDetail } from './orders/order-detail.js';
import { OrdersController } from './orders/orders.controller.js';
import { ProductsController } from './products/products.controller.js';
import { QueueDepths } from './metrics/queue-depths.js';
import { ReceiptController } from './orders/receipt.controller.js';
import { CreateApiKey } from './tenants/create-api-key.use-case.js';
import { CELL_OPTIONS, CellRegistration, type CellOptions } from './tenants/cell-registration.js';
import { CreateTenant } from './tenants/create-tenant.use-case.js';
import { RevokeApiKey } from './tenants/revoke-api-key.use-case.js';
import { SetNotificationEmail } from './tenants/set-notification-email.use-case.js';
import { SetTenantStatus } from './tenants/set-tenant-status.use-case.js';
import { TenantRepository } from './tenants/tenant.repository.js';
import { TenantsController } from './tenants/tenants.controller.js';
import { RebillUsage } from './usage/rebill-usage.use-case.js';
import { RerunUsageEvent } from './usage/rerun-usage-event.use-case.js';
import { UsageLogRepository } from './usage/usage-log.repository.js';
import { UsageController } from './usage/usage.controller.js';
import { RedeliverWebhook } from './webhooks/redeliver-webhook.use-case.js';
import { WebhookLogRepository } from './webhooks/webhook-log.repository.js';
import { WebhooksController } from './webhooks/webhooks.controller.js';

/** The operators' API (and, later, dashboard); projects events from `admin.events`. */
@Module({})
export class AdminModule {
  static register(config: AdminConfig): DynamicModule {
    return {
      module: AdminModule,
      imports: [
        ObservabilityModule.forRoot({
          app: 'admin',
          logLevel: config.LOG_LEVEL,
          readiness: [DatabaseReadiness],
          // Operators need the dashboard most while the broker is away.
          degradedBy: [BrokerReadiness],
        }),
        PersistenceModule.forRoot(config, 'tally-admin'),
        MessagingModule.forRoot({ app: 'admin', amqp: config }),
        LedgerModule,
        ReceiptsModule,
      ],
      controllers: [
        AuthController,
        TenantsController,
        AuditController,
        DeadLettersController,
        TransactionsController,
        AccountsController,
        AdjustmentsController,
        UsageController,
        WebhooksController,
        ReceiptController,
        MetricsController,
        SeriesController,
        EventsController,
        ProductsController,
        OrdersController,
        PayoutMismatchesController,
        PayoutBreakersController,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        SettlePayoutMismatch,
        // Repositories: the admin's I/O.
        AuditLog,
        OperatorRepository,
        SessionRepository,
        TenantRepository,
        DeadLetterRepository,
        TransactionSearchRepository,
        CustomerAccountRepository,
        AdjustmentRepository,
        RerunRepository,
        UsageLogRepository,
        WebhookLogRepository,
        MetricsRepository,
        SeriesRepository,
        QueueDepths,
        // Use cases.
        AuthService,
        CreateTenant,
        CellRegistration,
        { provide: CELL_OPTIONS, useValue: cellOf(config) satisfies CellOptions },
        SetTenantStatus,
        SetNotificationEmail,
        CreateApiKey,
        RevokeApiKey,
        ReplayDeadLetters,
        DiscardDeadLetter,
        SetAccountStatus,
        Adjustments,
        Reruns,
        TransactionDetail,
        OrderDetail,
        RerunUsageEvent,
        RebillUsage,
        RedeliverWebhook,
        MetricsOverview,
        RolesGuard,
        {
          provide: LoginThrottle,
          useFactory: (metrics: Metrics) =>
            new LoginThrottle(createRateLimiter(config, metrics, 'in-process'), metrics, {
              failuresPerAccount: config.ADMIN_LOGIN_MAX_FAILURES,
              failureWindowSeconds: config.ADMIN_LOGIN_FAILURE_WINDOW_SECONDS,
              attemptsPerAddressPerMinute: config.ADMIN_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE,
            }),
          inject: [Metrics],
        },
        DeadLetterCollector,
        MetricSampler,
        {
          provide: 'SAMPLER_OPTIONS',
          useValue: {
            intervalSeconds: config.ADMIN_METRICS_SAMPLE_SECONDS,
            retentionDays: config.ADMIN_METRICS_RETENTION_DAYS,
          } satisfies SamplerOptions,
        },
        {
          provide: 'LEDGER_OPTIONS',
          useValue: {
            approvalThreshold: BigInt(config.ADMIN_ADJUSTMENT_APPROVAL_THRESHOLD),
            approvalWindowSeconds: config.ADMIN_ADJUSTMENT_APPROVAL_WINDOW_SECONDS,
          } satisfies AdjustmentPolicy,
        },
        {
          provide: 'PAYOUT_SETTLE_OPTIONS',
          useValue: {
            approvalThreshold: BigInt(config.ADMIN_PAYOUT_SETTLE_APPROVAL_THRESHOLD),
          } satisfies PayoutSettlePolicy,
        },
        {
          provide: 'AUTH_OPTIONS',
          useValue: {
            // Without a configured secret (development only), tokens last until the app restarts.
            jwtSecret: config.ADMIN_JWT_SECRET
              ? new TextEncoder().encode(config.ADMIN_JWT_SECRET)
              : randomBytes(32),
            accessTtlSeconds: config.ADMIN_ACCESS_TTL_SECONDS,
            refreshTtlSeconds: config.ADMIN_REFRESH_TTL_SECONDS,
            bootstrap:
              config.ADMIN_EMAIL && config.ADMIN_PASSWORD
                ? { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD }
                : null,
            developmentSignIn:
              config.NODE_ENV === 'development'
                ? { dashboardUrl: `http://localhost:${config.ADMIN_PORT}/` }
                : null,
          } satisfies AuthOptions,
        },
      ],
    };
  }
}
