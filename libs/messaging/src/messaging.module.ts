import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type INestApplication,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AmqpConfig, DatabaseConfig, OutboxConfig } from '#config';
import { Metrics } from '#observability';
import { OutboxSignal } from '#persistence';
import { AmqpConnection } from './amqp-connection.js';
import { AmqpTransport, RpcErrorPassthroughFilter } from './amqp-transport.js';
import { BrokerReadiness } from './broker-readiness.js';
import { InboxProcessor } from './inbox-processor.js';
import { OutboxRelay } from './outbox-relay.js';
import { MessagePublisher } from './publisher.js';
import { RetryPolicy } from './retry-policy.js';
import { Topology, standardQueues, type QueueSpec } from './topology.js';

export interface MessagingOptions {
  app: string;
  amqp: AmqpConfig;
  /** Present when this process runs an outbox relay. */
  outbox?: OutboxConfig & Pick<DatabaseConfig, 'DATABASE_URL'>;
  /** Queues beyond Tally's standard ones (tests). */
  extraQueues?: QueueSpec[];
}

const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

@Injectable()
class MessagingLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    @Inject(AmqpConnection) private readonly connection: AmqpConnection,
    @Inject(MessagePublisher) private readonly publisher: MessagePublisher,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay | null,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.outbox?.OUTBOX_RELAY_ENABLED) this.relay?.start();
  }

  // Runs after consumers and the HTTP server are closed: finish relaying, then hang up.
  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
    await this.publisher.close().catch(() => undefined);
    await this.connection.close();
  }
}

@Global()
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: MESSAGING_OPTIONS, useValue: options },
        {
          provide: Topology,
          useFactory: () =>
            new Topology({
              prefix: options.amqp.AMQP_PREFIX,
              retryDelaysMs: options.amqp.RETRY_DELAYS_MS,
              deliveryLimit: options.amqp.AMQP_DELIVERY_LIMIT,
              queues: [...standardQueues, ...(options.extraQueues ?? [])],
            }),
        },
        { provide: AmqpConnection, useFactory: () => new AmqpConnection(options.amqp.AMQP_URL, options.app) },
        {
          provide: MessagePublisher,
          useFactory: (connection: AmqpConnection, topology: Topology) =>
            new MessagePublisher(connection, topology, options.outbox?.OUTBOX_PUBLISH_TIMEOUT_MS ?? 10_000),
          inject: [AmqpConnection, Topology],
        },
        {
          provide: RetryPolicy,
          useFactory: () => new RetryPolicy(options.amqp.RETRY_DELAYS_MS, options.amqp.RETRY_MAX_ATTEMPTS),
        },
        {
          provide: OutboxRelay,
          useFactory: (
            dataSource: DataSource,
            publisher: MessagePublisher,
            metrics: Metrics,
            signal: OutboxSignal,
          ) =>
            options.outbox
              ? new OutboxRelay(
                  dataSource,
                  publisher,
                  metrics,
                  {
                    databaseUrl: options.outbox.DATABASE_URL,
                    OUTBOX_BATCH_SIZE: options.outbox.OUTBOX_BATCH_SIZE,
                    OUTBOX_POLL_INTERVAL_MS: options.outbox.OUTBOX_POLL_INTERVAL_MS,
                  },
                  signal,
                )
              : null,
          inject: [DataSource, MessagePublisher, Metrics, OutboxSignal],
        },
        InboxProcessor,
        BrokerReadiness,
        MessagingLifecycle,
      ],
      exports: [
        Topology,
        AmqpConnection,
        MessagePublisher,
        RetryPolicy,
        OutboxRelay,
        InboxProcessor,
        BrokerReadiness,
      ],
    };
  }
}

/**
 * Attaches the AMQP consumer to a (hybrid) Nest app: its @EventPattern handlers are then served
 * from `queues`. Call before `app.startAllMicroservices()`.
 */
export function connectAmqpConsumer(app: INestApplication, queues: QueueSpec[], prefetch: number): void {
  const transport = new AmqpTransport({
    connection: app.get(AmqpConnection),
    publisher: app.get(MessagePublisher),
    topology: app.get(Topology),
    metrics: app.get(Metrics),
    retryPolicy: app.get(RetryPolicy),
    queues,
    prefetch,
  });
  // Deferred, so the filter is in place before the handlers are wrapped.
  const microservice = app.connectMicroservice({ strategy: transport }, { deferInitialization: true });
  microservice.useGlobalFilters(new RpcErrorPassthroughFilter());
  // A deferred microservice calls the shared container's lifecycle hooks when it starts, and the
  // app calls them again when it is initialised: every onApplicationBootstrap ran twice (two metric
  // samplers, two dead-letter consumers per DLQ, two dispatcher loops, timers that shutdown did not
  // clear). The app's own init calls them, once, before its consumers start (listenHttpApp).
  const deferred = microservice as typeof microservice & { setIsInitHookCalled?: (called: boolean) => void };
  if (typeof deferred.setIsInitHookCalled !== 'function')
    throw new Error(
      '@nestjs/microservices has no NestMicroservice.setIsInitHookCalled: lifecycle hooks would run twice',
    );
  deferred.setIsInitHookCalled(true);
}
