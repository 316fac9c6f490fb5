import { Module, type DynamicModule } from '@nestjs/common';
import { BrokerReadiness, MessagingModule } from '#messaging';
import { ObservabilityModule } from '#observability';
import { DatabaseReadiness, PersistenceModule } from '#persistence';
import type { NotificationConfig } from './config.js';

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
        PersistenceModule.forRoot(config, 'tally-notification'),
        MessagingModule.forRoot({ app: 'notification', amqp: config }),
      ],
    };
  }
}
