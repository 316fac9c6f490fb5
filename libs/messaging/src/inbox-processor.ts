import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { InboxStore, OutboxSignal } from '#persistence';
import type { AmqpContext } from './amqp-context.js';

/**
 * Runs a message's effect exactly once per consumer: one database transaction holds the inbox
 * row and the effect. A duplicate delivery commits nothing and is counted as a duplicate.
 */
@Injectable()
export class InboxProcessor {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(InboxStore) private readonly inbox: InboxStore,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
  ) {}

  async process<T>(
    ctx: AmqpContext,
    consumer: string,
    effect: (manager: EntityManager) => Promise<T>,
  ): Promise<T | undefined> {
    const result = await this.dataSource.transaction(async (manager) => {
      if (!(await this.inbox.claim(manager, consumer, ctx.messageId))) {
        ctx.markDuplicate();
        return undefined;
      }
      return effect(manager);
    });
    if (!ctx.isDuplicate) this.outboxSignal.committed(); // the effect may have written outbox rows
    return result;
  }
}
