import {
  Body,
  Controller,
  Inject,
  Logger,
  Module,
  Post,
  type DynamicModule,
  type OnModuleInit,
} from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { amqpEnv, databaseEnv, loadEnv, outboxEnv, port, runtimeEnv } from '#config';
import {
  AmqpContext,
  BrokerReadiness,
  Exchanges,
  InboxProcessor,
  MessagingModule,
  PermanentMessageError,
  type QueueSpec,
} from '#messaging';
import { Correlation, ObservabilityModule } from '#observability';
import { DatabaseReadiness, OutboxSignal, OutboxStore, PersistenceModule } from '#persistence';

/**
 * A small app assembled from the real libraries, with handlers that misbehave on request. The
 * integration tests run it as a child process, so crashes are real crashes.
 */
export const fixtureEnv = {
  ...runtimeEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...outboxEnv,
  ...port('FIXTURE_PORT', 3999),
};
export type FixtureConfig = ReturnType<typeof loadFixtureConfig>;
export const loadFixtureConfig = () => loadEnv(fixtureEnv);

export const fixtureQueue: QueueSpec = {
  name: 'fixture.commands',
  bindings: [{ exchange: Exchanges.commands, routingKey: 'test.#' }],
  unknownTypes: 'dead-letter',
};

@Controller('fixture')
class FixtureController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OutboxStore) private readonly outbox: OutboxStore,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
  ) {}

  /** Writes outbox rows in one transaction, tagged with the request's correlation id. */
  @Post('enqueue')
  async enqueue(@Body() body: { type: string; payload?: object; count?: number }) {
    const messageIds = await this.dataSource.transaction((manager) =>
      this.outbox.enqueue(
        manager,
        Array.from({ length: body.count ?? 1 }, () => ({
          exchange: Exchanges.commands,
          routingKey: body.type,
          payload: body.payload ?? {},
          correlationId: Correlation.id(),
        })),
      ),
    );
    this.outboxSignal.committed();
    return { messageIds };
  }
}

@Controller()
class FixtureHandlers implements OnModuleInit {
  private readonly logger = new Logger('FixtureHandlers');

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(InboxProcessor) private readonly inbox: InboxProcessor,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.dataSource.query(`CREATE TABLE IF NOT EXISTS test_deliveries (
      id bigserial PRIMARY KEY, message_id text NOT NULL, type text NOT NULL, attempt int NOT NULL,
      redelivered boolean NOT NULL, pid int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await this.dataSource.query(`CREATE TABLE IF NOT EXISTS test_effects (
      id bigserial PRIMARY KEY, message_id text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  }

  /** Every delivery is recorded in its own transaction, before the handler's work, so tests can count them. */
  private async record(ctx: AmqpContext): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO test_deliveries (message_id, type, attempt, redelivered, pid) VALUES ($1, $2, $3, $4, $5)`,
      [ctx.messageId, ctx.type, ctx.attempt, ctx.message.fields.redelivered, process.pid],
    );
  }

  private effect(ctx: AmqpContext) {
    return this.inbox.process(ctx, 'fixture', (manager) =>
      manager.query(`INSERT INTO test_effects (message_id) VALUES ($1)`, [ctx.messageId]),
    );
  }

  @EventPattern('test.effect')
  async onEffect(@Ctx() ctx: AmqpContext) {
    await this.record(ctx);
    await this.effect(ctx);
  }

  @EventPattern<string>('test.flaky')
  async onFlaky(@Payload() data: { failTimes: number }, @Ctx() ctx: AmqpContext) {
    await this.record(ctx);
    if (ctx.attempt <= data.failTimes) throw new Error(`flaky failure on attempt ${ctx.attempt}`);
    await this.effect(ctx);
  }

  @EventPattern('test.permanent')
  async onPermanent(@Ctx() ctx: AmqpContext) {
    await this.record(ctx);
    throw new PermanentMessageError('this message can never succeed', 'test_permanent');
  }

  @EventPattern('test.fail')
  async onFail(@Ctx() ctx: AmqpContext) {
    await this.record(ctx);
    throw new Error('still broken');
  }

  @EventPattern('test.crash')
  async onCrash(@Ctx() ctx: AmqpContext) {
    await this.record(ctx);
    process.kill(process.pid, 'SIGKILL');
  }

  @EventPattern('test.log')
  async onLog(@Ctx() ctx: AmqpContext) {
    await this.record(ctx);
    this.logger.log('fixture handled test.log');
  }
}

@Module({})
export class FixtureModule {
  static register(config: FixtureConfig): DynamicModule {
    return {
      module: FixtureModule,
      imports: [
        ObservabilityModule.forRoot({
          app: 'fixture',
          logLevel: config.LOG_LEVEL,
          readiness: [DatabaseReadiness, BrokerReadiness],
        }),
        PersistenceModule.forRoot(config, 'tally-fixture'),
        MessagingModule.forRoot({
          app: 'fixture',
          amqp: config,
          outbox: config,
          extraQueues: [fixtureQueue],
        }),
      ],
      controllers: [FixtureController, FixtureHandlers],
    };
  }
}
