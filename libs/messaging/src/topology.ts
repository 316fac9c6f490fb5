import type { Channel } from 'amqplib';

/** Logical exchange names. The configured prefix is added when they are declared or used. */
export const Exchanges = {
  commands: 'tally.commands',
  events: 'tally.events',
  retry: 'tally.retry',
  dlx: 'tally.dlx',
  /** Catches anything published to commands/events that no queue is bound for, so nothing vanishes. */
  unroutable: 'tally.unroutable',
} as const;

export interface QueueBinding {
  exchange: string;
  routingKey: string;
}

/** A consuming queue: the apps' handlers are served from these. */
export interface QueueSpec {
  name: string;
  bindings: QueueBinding[];
  /**
   * A message type with no handler: on a command queue that is a fault (dead-letter it); on an
   * event queue it is an event this consumer does not care about (ack it).
   */
  unknownTypes: 'dead-letter' | 'ignore';
}

/** Tally's consuming queues. Every app declares all of them, so a publish never finds a queue missing. */
export const Queues = {
  transactionWorker: {
    name: 'transaction-worker.commands',
    bindings: [{ exchange: Exchanges.commands, routingKey: '#' }],
    unknownTypes: 'dead-letter',
  },
  notification: {
    name: 'notification.events',
    bindings: [{ exchange: Exchanges.events, routingKey: '#' }],
    unknownTypes: 'ignore',
  },
  admin: {
    name: 'admin.events',
    bindings: [{ exchange: Exchanges.events, routingKey: '#' }],
    unknownTypes: 'ignore',
  },
} satisfies Record<string, QueueSpec>;

export const standardQueues: QueueSpec[] = Object.values(Queues);

export function formatDelay(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export interface TopologyOptions {
  prefix: string;
  retryDelaysMs: number[];
  deliveryLimit: number;
  queues: QueueSpec[];
}

/**
 * Names and declares Tally's RabbitMQ topology. Declaration is idempotent (assert*), and is re-run
 * on every (re)connection by the channels that depend on it.
 */
export class Topology {
  readonly queues: QueueSpec[];
  private readonly delays: number[];

  constructor(private readonly options: TopologyOptions) {
    this.delays = [...new Set(options.retryDelaysMs)];
    const byName = new Map<string, QueueSpec>();
    for (const q of options.queues) byName.set(q.name, q);
    this.queues = [...byName.values()];
  }

  exchange(logical: string): string {
    return this.options.prefix + logical;
  }

  queue(logical: string): string {
    return this.options.prefix + logical;
  }

  dlq(logicalQueue: string): string {
    return `${this.queue(logicalQueue)}.dlq`;
  }

  retryQueue(logicalQueue: string, delayMs: number): string {
    return `${this.queue(logicalQueue)}.retry.${formatDelay(delayMs)}`;
  }

  /** Every queue name this topology declares (for clean-up in tests). */
  allQueueNames(): string[] {
    return [
      this.queue(Exchanges.unroutable),
      ...this.queues.flatMap((q) => [
        this.queue(q.name),
        this.dlq(q.name),
        ...this.delays.map((d) => this.retryQueue(q.name, d)),
      ]),
    ];
  }

  allExchangeNames(): string[] {
    return Object.values(Exchanges).map((e) => this.exchange(e));
  }

  async declare(channel: Channel): Promise<void> {
    const x = (name: string) => this.exchange(name);
    const quorum = { 'x-queue-type': 'quorum' };
    // Dead-lettering out of a quorum queue is only at-least-once with reject-publish overflow.
    const atLeastOnce = { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' };

    await channel.assertExchange(x(Exchanges.unroutable), 'fanout', { durable: true });
    await channel.assertQueue(this.queue(Exchanges.unroutable), { durable: true, arguments: quorum });
    await channel.bindQueue(this.queue(Exchanges.unroutable), x(Exchanges.unroutable), '');
    for (const name of [Exchanges.commands, Exchanges.events]) {
      await channel.assertExchange(x(name), 'topic', {
        durable: true,
        alternateExchange: x(Exchanges.unroutable),
      });
    }
    await channel.assertExchange(x(Exchanges.retry), 'direct', { durable: true });
    await channel.assertExchange(x(Exchanges.dlx), 'direct', { durable: true });

    for (const spec of this.queues) {
      const main = this.queue(spec.name);
      const dlq = this.dlq(spec.name);
      await channel.assertQueue(dlq, { durable: true, arguments: quorum });
      await channel.bindQueue(dlq, x(Exchanges.dlx), dlq);
      await channel.assertQueue(main, {
        durable: true,
        arguments: {
          ...quorum,
          ...atLeastOnce,
          'x-delivery-limit': this.options.deliveryLimit,
          'x-dead-letter-exchange': x(Exchanges.dlx),
          'x-dead-letter-routing-key': dlq,
        },
      });
      for (const b of spec.bindings) await channel.bindQueue(main, x(b.exchange), b.routingKey);
      for (const delay of this.delays) {
        const retry = this.retryQueue(spec.name, delay);
        // Expired messages go back to the main queue through the default exchange.
        await channel.assertQueue(retry, {
          durable: true,
          arguments: {
            ...quorum,
            ...atLeastOnce,
            'x-message-ttl': delay,
            'x-dead-letter-exchange': '',
            'x-dead-letter-routing-key': main,
          },
        });
        await channel.bindQueue(retry, x(Exchanges.retry), retry);
      }
    }
  }

  /** Deletes every queue and exchange of this topology (tests only). */
  async destroy(channel: Channel): Promise<void> {
    for (const q of this.allQueueNames()) await channel.deleteQueue(q);
    for (const e of this.allExchangeNames()) await channel.deleteExchange(e);
  }
}
