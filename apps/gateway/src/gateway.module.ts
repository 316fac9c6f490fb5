import { Module, type DynamicModule } from '@nestjs/common';
import { BrokerReadiness, MessagingModule } from '#messaging';
import { ObservabilityModule } from '#observability';
import { DatabaseReadiness, PersistenceModule } from '#persistence';
import type { GatewayConfig } from './config.js';

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
          readiness: [DatabaseReadiness, BrokerReadiness],
        }),
        PersistenceModule.forRoot(config, 'tally-gateway'),
        MessagingModule.forRoot({ app: 'gateway', amqp: config, outbox: config }),
      ],
    };
  }
}
