import { Module, type DynamicModule } from '@nestjs/common';
import { BrokerReadiness, MessagingModule } from '#messaging';
import { ObservabilityModule } from '#observability';
import { DatabaseReadiness, PersistenceModule } from '#persistence';
import type { AdminConfig } from './config.js';

/** The operators' API and dashboard; projects events from `admin.events`. */
@Module({})
export class AdminModule {
  static register(config: AdminConfig): DynamicModule {
    return {
      module: AdminModule,
      imports: [
        ObservabilityModule.forRoot({
          app: 'admin',
          logLevel: config.LOG_LEVEL,
          readiness: [DatabaseReadiness, BrokerReadiness],
        }),
        PersistenceModule.forRoot(config, 'tally-admin'),
        MessagingModule.forRoot({ app: 'admin', amqp: config }),
      ],
    };
  }
}
