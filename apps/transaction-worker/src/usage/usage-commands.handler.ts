import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource, type EntityManager } from 'typeorm';
import { MessageTypes, type UsageRecorded } from '#domain';
import { AmqpContext, ValidPayload } from '#messaging';
import { InboxStore, OutboxSignal } from '#persistence';
import { ProcessUsage } from './process-usage.use-case.js';
import { UsageRecordedMessage } from './usage-recorded.message.js';
import { Gate } from '../scheduling/gate.js';

/** A usage command that does not fit (at most 500 event ids) is dead-lettered before it is handled. */
const validUsageCommand = () => new ValidPayload(UsageRecordedMessage, 'malformed_command');

export const USAGE_CONSUMER = 'transaction-worker.usage';

@Controller()
export class UsageCommandsHandler {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(InboxStore) private readonly inbox: InboxStore,
    @Inject(ProcessUsage) private readonly processUsage: ProcessUsage,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject('USAGE_GATE') private readonly gate: Gate,
  ) {}

  /** One accepted batch of events, processed in one database transaction with its inbox row. */
  @EventPattern<string>(MessageTypes.usageRecorded)
  async onUsageRecorded(
    @Payload(validUsageCommand()) command: UsageRecorded,
    @Ctx() ctx: AmqpContext,
  ): Promise<void> {
    await this.handle(ctx, (manager) => this.processUsage.execute(manager, command));
  }

  /** Unbilled events to charge again, in one database transaction with its inbox row. */
  @EventPattern<string>(MessageTypes.usageRebillRequested)
  async onUsageRebill(
    @Payload(validUsageCommand()) command: UsageRecorded,
    @Ctx() ctx: AmqpContext,
  ): Promise<void> {
    await this.handle(ctx, (manager) => this.processUsage.rebill(manager, command));
  }

  private async handle(ctx: AmqpContext, work: (manager: EntityManager) => Promise<unknown>): Promise<void> {
    const fresh = await this.gate.run(() =>
      this.dataSource.transaction(async (manager) => {
        if (!(await this.inbox.claim(manager, USAGE_CONSUMER, ctx.messageId))) return false;
        await work(manager);
        return true;
      }),
    );
    if (!fresh) ctx.markDuplicate();
    else this.outboxSignal.committed();
  }
}
