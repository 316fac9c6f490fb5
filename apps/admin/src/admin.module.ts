import { randomBytes } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { BrokerReadiness, MessagingModule } from '#messaging';
import { Metrics, ObservabilityModule } from '#observability';
import { createRateLimiter } from '#http';
import { DatabaseReadiness, PersistenceModule } from '#persistence';
import { AuditController } from './audit/audit.controller.js';
import { AuditLog } from './audit/audit-log.js';
import { AuthController } from './auth/auth.controller.js';
import { AuthService } from './auth/auth.service.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { RolesGuard } from './auth/roles.guard.js';
import type { AdminConfig } from './config.js';
import { DeadLetterCollector } from './dead-letters/dead-letter-collector.js';
import { DeadLettersController } from './dead-letters/dead-letters.controller.js';
import { AdminProblemFilter } from './http/admin-error.js';
import { Adjustments, type AdjustmentPolicy } from './ledger/adjustments.js';
import { LedgerController } from './ledger/ledger.controller.js';
import { Reruns } from './ledger/reruns.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { OperationsController } from './operations/operations.controller.js';
import { TenantsController } from './tenants/tenants.controller.js';

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
      ],
      controllers: [
        AuthController,
        TenantsController,
        AuditController,
        DeadLettersController,
        LedgerController,
        MetricsController,
        OperationsController,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AdminProblemFilter },
        AuditLog,
        AuthService,
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
        Adjustments,
        Reruns,
        {
          provide: 'LEDGER_OPTIONS',
          useValue: {
            approvalThreshold: BigInt(config.ADMIN_ADJUSTMENT_APPROVAL_THRESHOLD),
            approvalWindowSeconds: config.ADMIN_ADJUSTMENT_APPROVAL_WINDOW_SECONDS,
          } satisfies AdjustmentPolicy,
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
          },
        },
      ],
    };
  }
}
