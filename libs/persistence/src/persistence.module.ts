import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '#config';
import { createDataSource, migrateDatabase } from './data-source.js';
import { IdempotencyStore } from './idempotency.store.js';
import { InboxStore } from './inbox.store.js';
import { OutboxSignal } from './outbox-signal.js';
import { OutboxStore } from './outbox.store.js';
import { SecretBox } from './secret-box.js';
import {
  AccountRepository,
  HoldRepository,
  ProductRepository,
  RatingRepository,
  OrderRepository,
  LedgerEntryRepository,
  MeterRepository,
  EventTypeRepository,
  TransactionRepository,
  UsageRepository,
  WebhookRepository,
  CustomerSessionRepository,
  PayoutRepository,
  PayoutBreakerRepository,
} from './repositories/index.js';

@Injectable()
class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  // After the HTTP server and consumers are closed, so in-flight work can still commit.
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Global()
@Module({})
export class PersistenceModule {
  /**
   * `secretKeys`: the apps that read webhook secrets (gateway, notification) pass their
   * WEBHOOK_ENCRYPTION_KEYS; empty means the development key (production configs refuse that).
   */
  static forRoot(config: DatabaseConfig, applicationName: string, secretKeys: Buffer[] = []): DynamicModule {
    return {
      module: PersistenceModule,
      providers: [
        {
          provide: SecretBox,
          useValue: SecretBox.forKeys(secretKeys),
        },
        {
          provide: DataSource,
          useFactory: async () => {
            if (config.DATABASE_MIGRATE_ON_START) {
              const applied = await migrateDatabase(config);
              if (applied.length > 0) new Logger('Migrations').log(`applied ${applied.join(', ')}`);
            }
            const dataSource = createDataSource(config, applicationName);
            await dataSource.initialize();
            return dataSource;
          },
        },
        DataSourceCloser,
        OutboxStore,
        OutboxSignal,
        InboxStore,
        IdempotencyStore,
        AccountRepository,
        TransactionRepository,
        LedgerEntryRepository,
        HoldRepository,
        ProductRepository,
        RatingRepository,
        OrderRepository,
        MeterRepository,
        EventTypeRepository,
        UsageRepository,
        WebhookRepository,
        CustomerSessionRepository,
        PayoutRepository,
        PayoutBreakerRepository,
      ],
      exports: [
        SecretBox,
        DataSource,
        OutboxStore,
        OutboxSignal,
        InboxStore,
        IdempotencyStore,
        AccountRepository,
        TransactionRepository,
        LedgerEntryRepository,
        HoldRepository,
        ProductRepository,
        RatingRepository,
        OrderRepository,
        MeterRepository,
        EventTypeRepository,
        UsageRepository,
        WebhookRepository,
        CustomerSessionRepository,
        PayoutRepository,
        PayoutBreakerRepository,
      ],
    };
  }
}
