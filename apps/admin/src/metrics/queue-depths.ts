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
  /** One channel for the passive declares, opened on first use and replaced after a failed one. */
  private channel: ChannelWrapper | undefined;

  constructor(
    @Inject(AmqpConnection) private readonly amqp: AmqpConnection,
    @Inject(Topology) private readonly topology: Topology,
  ) {}

  async all(): Promise<QueueDepth[]> {
    // Logical names (no prefix) for people; the broker is asked with the physical ones.
    const names = this.topology.queues.flatMap((q) => [q.name, `${q.name}.dlq`]);
    const out: QueueDepth[] = [];
    for (const name of names) {
      const channel = await this.open();
      try {
        const info = await channel.checkQueue(this.topology.queue(name));
        out.push({ queue: name, messages: info.messageCount, consumers: info.consumerCount });
      } catch {
        out.push({ queue: name, messages: null, consumers: null });
        // A queue the broker does not have (not declared yet, at start-up) closes the channel:
        // the next queue, and the next sample, ask on a fresh one rather than on the dead one.
        this.channel = undefined;
        await channel.close().catch(() => undefined);
      }
    }
    return out;
  }

  private async open(): Promise<ChannelWrapper> {
    this.channel ??= this.amqp.manager.createChannel({ name: 'admin-metrics', json: false });
    await this.channel.waitForConnect();
    return this.channel;
  }

  async onModuleDestroy(): Promise<void> {
    await this.channel?.close();
  }
}
