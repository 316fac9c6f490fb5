import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AmqpConnection, QueueInspector, Topology } from '#messaging';

export interface QueueDepth {
  queue: string;
  /** Null when the broker could not be asked, or did not answer in time. */
  messages: number | null;
  consumers: number | null;
}

/** How long one pass waits for the broker's answers before it gives what it has. */
export const BROKER_WAIT_MS = 5000;

/**
 * Depth and consumers of every queue and its DLQ, from the broker (passive declares, on a
 * QueueInspector's channel: a queue not declared yet is null, and costs no more than that channel).
 *
 * One pass at a time: a caller that comes while a pass is under way (the sampler's next tick, a
 * dashboard request) shares it, so a slow broker is asked once rather than once per caller, and
 * unanswered questions cannot pile up on the channel. A pass ends within `waitMs` whatever the
 * broker does: the queues it has not answered by then are null, and the channel it was waiting on
 * is let go, so the next pass asks on a fresh one rather than behind a stuck question.
 */
@Injectable()
export class QueueDepths implements OnModuleDestroy {
  private readonly inspector: QueueInspector;
  private pass: Promise<QueueDepth[]> | undefined;
  /** How long a pass waits for the broker (tests shorten it). */
  waitMs = BROKER_WAIT_MS;

  constructor(
    @Inject(AmqpConnection) amqp: AmqpConnection,
    @Inject(Topology) private readonly topology: Topology,
  ) {
    this.inspector = new QueueInspector(amqp, 'admin-metrics');
  }

  all(): Promise<QueueDepth[]> {
    this.pass ??= this.ask().finally(() => (this.pass = undefined));
    return this.pass;
  }

  private async ask(): Promise<QueueDepth[]> {
    // Logical names (no prefix) for people; the broker is asked with the physical ones.
    const names = this.topology.queues.flatMap((q) => [q.name, `${q.name}.dlq`]);
    const answers = await this.inspector.checkAll(
      names.map((name) => this.topology.queue(name)),
      this.waitMs,
    );
    return names.map((queue) => {
      const counts = answers.get(this.topology.queue(queue));
      return { queue, messages: counts?.messageCount ?? null, consumers: counts?.consumerCount ?? null };
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.inspector.close();
  }
}
