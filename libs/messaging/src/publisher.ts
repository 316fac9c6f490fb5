import { stringifyJson } from '#domain';
import { Logger } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Options } from 'amqplib';
import type { AmqpConnection } from './amqp-connection.js';
import { Headers } from './headers.js';
import { Exchanges, type Topology } from './topology.js';

/** A message ready to publish. `exchange` is logical; the topology's prefix is applied here. */
export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  messageId: string;
  type: string;
  /** JSON text, or a value to serialise. */
  body: string | object;
  correlationId?: string | null;
  schemaVersion?: number;
  attempt?: number;
  headers?: Record<string, unknown>;
  timestamp?: Date;
}

const KNOWN_EXCHANGES: ReadonlySet<string> = new Set(Object.values(Exchanges));

/**
 * A message for an exchange outside Tally's topology. Refused before it is sent: the broker would
 * answer by closing the channel, failing every other publish in flight on it, and sending it again
 * can never succeed.
 */
export class UnknownExchangeError extends Error {
  constructor(readonly exchange: string) {
    super(`exchange "${exchange}" is not part of the topology (${[...KNOWN_EXCHANGES].join(', ')})`);
    this.name = 'UnknownExchangeError';
  }
}

/**
 * The one way Tally publishes: persistent messages on a confirm channel. Each promise resolves
 * when the broker has taken responsibility for the message; many may be in flight at once
 * (confirms are pipelined), which is what makes batched outbox relaying fast.
 */
export class MessagePublisher {
  readonly channel: ChannelWrapper;
  private readonly log = new Logger(MessagePublisher.name);

  constructor(
    connection: AmqpConnection,
    private readonly topology: Topology,
    private readonly publishTimeoutMs: number,
  ) {
    this.channel = connection.manager.createChannel({
      name: 'publisher',
      confirm: true,
      json: false,
      publishTimeout: publishTimeoutMs,
      setup: (channel: import('amqplib').ConfirmChannel) => topology.declare(channel),
    });
    // A setup cut short by a dropped connection is retried on reconnect; it must not crash the process.
    // No 'error' listener on the raw channel, as for the consumer's (AmqpTransport.listen says why).
    this.channel.on('error', (error: Error) => this.log.warn(`publisher channel: ${error.message}`));
  }

  /**
   * Resolves once the broker confirmed the message; rejects on nack, timeout or closed channel, and
   * at once, with UnknownExchangeError, for an exchange the topology does not declare.
   */
  async publish(message: OutgoingMessage): Promise<void> {
    if (!KNOWN_EXCHANGES.has(message.exchange)) throw new UnknownExchangeError(message.exchange);
    const content = Buffer.from(
      typeof message.body === 'string' ? message.body : stringifyJson(message.body),
    );
    await this.publishRaw(this.topology.exchange(message.exchange), message.routingKey, content, {
      messageId: message.messageId,
      correlationId: message.correlationId ?? undefined,
      type: message.type,
      timestamp: Math.floor((message.timestamp ?? new Date()).getTime() / 1000),
      headers: {
        ...message.headers,
        [Headers.schemaVersion]: message.schemaVersion ?? 1,
        [Headers.attempt]: message.attempt ?? 1,
      },
    });
  }

  /** Publishes all, confirms pipelined; the result says which were confirmed. */
  publishAll(messages: OutgoingMessage[]): Promise<PromiseSettledResult<void>[]> {
    return Promise.allSettled(messages.map((m) => this.publish(m)));
  }

  /** Low level: a physical exchange name and ready content (retry and dead-letter republishing). */
  async publishRaw(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
  ): Promise<void> {
    await this.channel.publish(exchange, routingKey, content, {
      contentType: 'application/json',
      ...options,
      persistent: true,
      timeout: this.publishTimeoutMs,
    } as Options.Publish);
  }

  async close(): Promise<void> {
    await this.channel.close();
  }
}
