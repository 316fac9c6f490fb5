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
      await this.dataSource.query(
        `INSERT INTO dead_letters (id, dlq, failed_queue, message_id, message_type, exchange, routing_key,
           correlation_id, tenant_id, payload, headers, error, error_code, attempts, failed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, coalesce($15::timestamptz, now()))
         ON CONFLICT (dlq, message_id, failed_at) DO NOTHING`,
        [
          newId('dl'),
          dlq,
          (h[Headers.failedQueue] as string | undefined) ?? death?.queue ?? null,
          message.properties.messageId ?? `unknown-${newId('msg')}`,
          message.properties.type ?? null,
          exchange,
          routingKey,
          message.properties.correlationId ?? null,
          tenantId,
          payload,
          JSON.stringify(h),
          error,
          (h[Headers.errorCode] as string | undefined) ?? (death ? 'delivery_limit' : null),
          typeof h[Headers.attempt] === 'number' ? h[Headers.attempt] : null,
          (h[Headers.failedAt] as string | undefined) ?? null,
        ],
      );
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
