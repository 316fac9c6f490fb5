import { Module, type DynamicModule } from '@nestjs/common';
import { BrokerReadiness, MessagingModule } from '#messaging';
import { ObservabilityModule } from '#observability';
import { DatabaseReadiness, PersistenceModule } from '#persistence';
import { ReceiptsModule } from '#receipts';
import type { NotificationConfig } from './config.js';
import { Mailer } from './email/mailer.js';
import { DeliveryDispatcher } from './webhooks/delivery-dispatcher.js';
import { EventsHandler } from './webhooks/events.handler.js';

/** Turns outcome events from `notification.events` into signed webhooks and email. */
@Module({})
export class NotificationModule {
  static register(config: NotificationConfig): DynamicModule {
    return {
      module: NotificationModule,
      imports: [
        ObservabilityModule.forRoot({
          app: 'notification',
          logLevel: config.LOG_LEVEL,
          readiness: [DatabaseReadiness, BrokerReadiness],
        }),
        PersistenceModule.forRoot(config, 'tally-notification', config.WEBHOOK_ENCRYPTION_KEYS),
        MessagingModule.forRoot({ app: 'notification', amqp: config }),
        ReceiptsModule,
      ],
      controllers: [EventsHandler],
      providers: [
        Mailer,
        DeliveryDispatcher,
        {
          provide: 'MAILER_OPTIONS',
          useValue: {
            host: config.SMTP_HOST,
            port: config.SMTP_PORT,
            secure: config.SMTP_SECURE,
            user: config.SMTP_USER,
            password: config.SMTP_PASSWORD,
            from: config.EMAIL_FROM,
          },
        },
        {
          provide: 'DISPATCH_OPTIONS',
          useValue: {
            retryScheduleMs: config.WEBHOOK_RETRY_SCHEDULE_MS,
            timeoutMs: config.WEBHOOK_TIMEOUT_MS,
            disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS,
            intervalMs: config.WEBHOOK_DISPATCH_INTERVAL_MS,
            concurrency: config.WEBHOOK_CONCURRENCY,
            allowedHosts: config.WEBHOOK_ALLOWED_HOSTS,
            orderWaitMs: config.WEBHOOK_ORDER_WAIT_MS,
          },
        },
      ],
    };
  }
}
