import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { DataSource } from 'typeorm';
import { newId, parseJson } from '#domain';
import { AmqpConnection, Headers, Topology } from '#messaging';
import { DeadLetterRepository } from './dead-letter.repository.js';

/**
 * Moves every queue's dead letters into the `dead_letters` store: consumes each DLQ, inserts the
 * message with its headers, error and attempts (once: a redelivered copy is recognised by its
 * queue, message id and failure time), and acks only after the row is committed.
 */
@Injectable()
export class DeadLetterCollector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(DeadLetterCollector.name);
  private channel: ChannelWrapper | undefined;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(DeadLetterRepository) private readonly deadLetters: DeadLetterRepository,
    @Inject(AmqpConnection) private readonly connection: AmqpConnection,
    @Inject(Topology) private readonly topology: Topology,
  ) {}

  onApplicationBootstrap(): void {
    const dlqs = this.topology.queues.map((q) => this.topology.dlq(q.name));
    this.channel = this.connection.manager.createChannel({
      name: 'dead-letter-collector',
      json: false,
      setup: async (channel: ConfirmChannel) => {
        await this.topology.declare(channel);
        await channel.prefetch(50);
        for (const dlq of dlqs) {
          await channel.consume(dlq, (message) => {
            if (message) void this.collect(channel, dlq, message);
          });
        }
      },
    });
    this.channel.on('error', (error: Error) => this.log.warn(`collector channel: ${error.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.channel?.close();
  }

  private async collect(channel: ConfirmChannel, dlq: string, message: ConsumeMessage): Promise<void> {
    try {
      const h = (message.properties.headers ?? {}) as Record<string, unknown>;
      const death = (
        h['x-death'] as { exchange?: string; 'routing-keys'?: string[]; queue?: string }[] | undefined
      )?.[0];
      const exchange = String(h[Headers.originalExchange] ?? death?.exchange ?? message.fields.exchange);
      const routingKey = String(
        h[Headers.originalRoutingKey] ?? death?.['routing-keys']?.[0] ?? message.fields.routingKey,
      );
      const payload = message.content.toString('utf8');
      // The body's tenant (commands, events), else the header of a message that carries it apart.
      const tenantHeader = h[Headers.tenantId];
      let tenantId = typeof tenantHeader === 'string' ? tenantHeader : null;
      try {
        const body = parseJson(payload) as { tenantId?: unknown };
        if (typeof body.tenantId === 'string') tenantId = body.tenantId;
      } catch {
        /* not JSON: kept as text */
      }
      const error =
        (h[Headers.error] as string | undefined) ??
        (death ? 'the delivery limit was reached (the consumer kept crashing or timing out)' : null);
      await this.deadLetters.store(this.dataSource.manager, {
        dlq,
        failedQueue: (h[Headers.failedQueue] as string | undefined) ?? death?.queue ?? null,
        messageId: message.properties.messageId ?? `unknown-${newId('msg')}`,
        messageType: message.properties.type ?? null,
        exchange,
        routingKey,
        correlationId: message.properties.correlationId ?? null,
        tenantId,
        payload,
        headers: h,
        error,
        errorCode: (h[Headers.errorCode] as string | undefined) ?? (death ? 'delivery_limit' : null),
        attempts: typeof h[Headers.attempt] === 'number' ? (h[Headers.attempt] as number) : null,
        failedAt: (h[Headers.failedAt] as string | undefined) ?? null,
      });
      channel.ack(message);
    } catch (error) {
      this.log.warn(`dead letter not stored, left in ${dlq}: ${(error as Error).message}`);
      try {
        channel.nack(message, false, true);
      } catch {
        /* channel gone: the broker redelivers */
      }
    }
  }
}
