import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource, type EntityManager } from 'typeorm';
import { MessageTypes, type UsageRecorded } from '#domain';
import { AmqpContext, ValidPayload } from '#messaging';
import { Metrics } from '#observability';
import { InboxStore, OutboxSignal } from '#persistence';
import { ProcessUsage, type UsageOutcome } from './process-usage.use-case.js';
import { UsageRecordedMessage } from './usage-recorded.message.js';
import { Gate } from '#persistence';

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
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /** One accepted batch of events, processed in one database transaction with its inbox row. */
  @EventPattern<string>(MessageTypes.usageRecorded)
  async onUsageRecorded(
    @Payload(validUsageCommand()) command: UsageRecorded,
    @Ctx() ctx: AmqpContext,
  ): Promise<void> {
    const outcome = await this.handle(ctx, (manager) => this.processUsage.execute(manager, command));
    if (outcome) this.observe(outcome);
  }

  /** Once committed: each event by type and outcome, and its latency from receipt to processed. */
  private observe(outcome: UsageOutcome): void {
    const now = Date.now();
    for (const e of outcome.observed) {
      this.metrics.usageEventsProcessed.inc({ type: e.type, outcome: e.outcome });
      this.metrics.usageEventLatency.observe(
        { outcome: e.outcome },
        Math.max(0, now - e.receivedAt.getTime()) / 1000,
      );
    }
  }

  /** Unbilled events to charge again, in one database transaction with its inbox row. */
  @EventPattern<string>(MessageTypes.usageRebillRequested)
  async onUsageRebill(
    @Payload(validUsageCommand()) command: UsageRecorded,
    @Ctx() ctx: AmqpContext,
  ): Promise<void> {
    await this.handle(ctx, (manager) => this.processUsage.rebill(manager, command));
  }

  /** Answers what `work` answered once committed, or null for a message handled before. */
  private async handle<T>(ctx: AmqpContext, work: (manager: EntityManager) => Promise<T>): Promise<T | null> {
    const result = await this.gate.run(() =>
      this.dataSource.transaction(async (manager) => {
        if (!(await this.inbox.claim(manager, USAGE_CONSUMER, ctx.messageId))) return null;
        return { value: await work(manager) };
      }),
    );
    if (!result) ctx.markDuplicate();
    else this.outboxSignal.committed();
    return result?.value ?? null;
  }
}
