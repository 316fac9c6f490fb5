import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Headers, MessagePublisher } from '#messaging';
import { WebhookRepository } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { conflict, notFound } from '../http/errors.js';
import {
  DeadLetterRepository,
  type DeadLetterFilter,
  type DeadLetterMessage,
} from './dead-letter.repository.js';

// What the failure added to a message; a replay goes out as the original did.
const FAILURE_HEADERS = [
  Headers.error,
  Headers.errorName,
  Headers.errorCode,
  Headers.errorPermanent,
  Headers.failedQueue,
  Headers.failedAt,
  Headers.lastError,
  Headers.originalExchange,
  Headers.originalRoutingKey,
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-delivery-count',
];

/**
 * Replays dead letters: each is republished to its original exchange and routing key with the same
 * message id (the consumers' inbox makes a replay safe), marked replayed and audited. A dead webhook
 * delivery is replayed by sending that delivery again.
 */
@Injectable()
export class ReplayDeadLetters {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(DeadLetterRepository) private readonly deadLetters: DeadLetterRepository,
    @Inject(MessagePublisher) private readonly publisher: MessagePublisher,
    @Inject(WebhookRepository) private readonly webhooks: WebhookRepository,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async one(operator: Operator, id: string, why: string) {
    const row = await this.deadLetters.message(this.dataSource.manager, id);
    if (!row) throw notFound(`Dead letter ${id}`);
    if (row.status === 'discarded') {
      throw conflict('dead_letter_discarded', 'A discarded dead letter cannot be replayed.');
    }
    await this.replay(operator, row, why);
    return { id, status: 'replayed' as const };
  }

  /** Every pending dead letter matching `filter`, oldest first, at most `limit`. */
  async matching(operator: Operator, filter: DeadLetterFilter, why: string, limit: number) {
    const rows = await this.deadLetters.pendingMatching(this.dataSource.manager, filter, limit);
    for (const row of rows) await this.replay(operator, row, why);
    return { replayed: rows.length };
  }

  private async replay(operator: Operator, row: DeadLetterMessage, why: string): Promise<void> {
    const deliveryId = row.headers[Headers.webhookDeliveryId];
    if (typeof deliveryId === 'string') return this.resendDelivery(operator, row, deliveryId, why);
    const headers = { ...row.headers };
    for (const h of FAILURE_HEADERS) delete headers[h];
    headers[Headers.attempt] = 1;
    headers['x-replayed-from'] = row.id;
    // Published before it is marked: a crash in between leaves it pending, to be replayed again
    // (safe: the consumers deduplicate by message id).
    await this.publisher.publishRaw(row.exchange, row.routing_key, Buffer.from(row.payload, 'utf8'), {
      messageId: row.message_id,
      correlationId: row.correlation_id ?? undefined,
      type: row.message_type ?? undefined,
      timestamp: Math.floor(Date.now() / 1000),
      headers,
    });
    await this.dataSource.transaction(async (m) => {
      await this.deadLetters.markReplayed(m, row.id, why);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'dead_letter.replay',
        targetType: 'dead_letter',
        targetId: row.id,
        reason: why,
        details: {
          exchange: row.exchange,
          routingKey: row.routing_key,
          messageId: row.message_id,
          type: row.message_type,
        },
      });
    });
  }

  /**
   * A dead webhook delivery is replayed by sending that delivery again (the notification app's
   * dispatcher picks it up), with the dead letter marked and audited in the same transaction.
   */
  private async resendDelivery(
    operator: Operator,
    row: DeadLetterMessage,
    deliveryId: string,
    why: string,
  ): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (!(await this.webhooks.resend(m, deliveryId))) {
        throw conflict('delivery_missing', `Delivery ${deliveryId} of this dead letter is gone.`);
      }
      await this.deadLetters.markReplayed(m, row.id, why);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'dead_letter.replay',
        targetType: 'dead_letter',
        targetId: row.id,
        reason: why,
        details: { webhookDeliveryId: deliveryId, messageId: row.message_id, type: row.message_type },
      });
    });
  }
}
