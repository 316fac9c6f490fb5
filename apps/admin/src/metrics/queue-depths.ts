import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import { AmqpConnection, Topology } from '#messaging';

export interface QueueDepth {
  queue: string;
  /** Null when the broker could not be asked. */
  messages: number | null;
  consumers: number | null;
}

/** Depth and consumers of every queue and its DLQ, from the broker (passive declares). */
@Injectable()
export class QueueDepths implements OnModuleDestroy {
  /** One channel for the passive declares, opened on first use (the manager re-opens it after a 404). */
  private channel: ChannelWrapper | undefined;

  constructor(
    @Inject(AmqpConnection) private readonly amqp: AmqpConnection,
    @Inject(Topology) private readonly topology: Topology,
  ) {}

  async all(): Promise<QueueDepth[]> {
    // Logical names (no prefix) for people; the broker is asked with the physical ones.
    const names = this.topology.queues.flatMap((q) => [q.name, `${q.name}.dlq`]);
    this.channel ??= this.amqp.manager.createChannel({ name: 'admin-metrics', json: false });
    await this.channel.waitForConnect();
    const out: QueueDepth[] = [];
    for (const name of names) {
      try {
        const info = await this.channel.checkQueue(this.topology.queue(name));
        out.push({ queue: name, messages: info.messageCount, consumers: info.consumerCount });
      } catch {
        out.push({ queue: name, messages: null, consumers: null });
      }
    }
    return out;
  }

  async onModuleDestroy(): Promise<void> {
    await this.channel?.close();
  }
}
