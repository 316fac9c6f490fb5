import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel } from 'amqplib';
import type { AmqpConnection } from './amqp-connection.js';

export interface QueueCounts {
  messageCount: number;
  consumerCount: number;
}

/**
 * Passive declares — a queue's depth and consumers — on a channel of their own.
 *
 * Asking for a queue the broker does not have (not declared yet, at start-up) makes the broker
 * close the channel with a 404. amqplib reports that as an `error` event on the channel, and
 * amqp-connection-manager does not listen for it: unheard, amqplib ends the whole connection, and
 * with it the app's consumers, its publisher and any topology declaration under way. Here the
 * error is listened for, so the 404 closes this channel only, and the next question opens a fresh
 * one.
 */
export class QueueInspector {
  private channel: ChannelWrapper | undefined;
  private closed = false;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly name: string,
  ) {}

  /** The queue's counts; null when the broker does not have it or could not be asked. */
  async check(queue: string): Promise<QueueCounts | null> {
    if (this.closed) return null;
    const channel = this.open();
    try {
      await channel.waitForConnect();
      const { messageCount, consumerCount } = await channel.checkQueue(queue);
      return { messageCount, consumerCount };
    } catch {
      if (this.channel === channel) this.reset();
      return null;
    }
  }

  /**
   * The counts of each of `queues`, asked one after another within `waitMs` all told. A queue the
   * broker does not have, or has not answered by then, is missing from the answer; a late answer
   * changes nothing. Run out of time, it lets the channel go, so the next asks afresh rather than
   * behind a question still unanswered.
   */
  async checkAll(queues: string[], waitMs: number): Promise<Map<string, QueueCounts>> {
    const answers = new Map<string, QueueCounts>();
    let over = false;
    const asking = (async () => {
      for (const queue of queues) {
        const counts = await this.check(queue);
        if (over) return;
        if (counts) answers.set(queue, counts);
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      asking.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
        timer.unref(); // a pass under way at shutdown does not hold the process
      }),
    ]).finally(() => clearTimeout(timer));
    over = true;
    if (!finished) this.reset();
    return answers;
  }

  /**
   * Lets the channel go: the next question opens a fresh one. For a caller that gave up waiting,
   * so that it does not ask again behind a question still unanswered.
   */
  reset(): void {
    void this.letGo(this.channel);
  }

  /** Closes the channel; a question asked after this answers null without opening another. */
  async close(): Promise<void> {
    this.closed = true;
    await this.letGo(this.channel);
  }

  private letGo(channel: ChannelWrapper | undefined): Promise<void> {
    if (!channel) return Promise.resolve();
    if (this.channel === channel) this.channel = undefined;
    // A channel still being opened has nothing to close yet, and the wrapper goes on to open it:
    // closed again once it is open, so that it is not left open on the broker with no owner.
    channel.once('connect', () => void channel.close().catch(() => undefined));
    return channel.close().catch(() => undefined);
  }

  private open(): ChannelWrapper {
    if (this.channel) return this.channel;
    const channel: ChannelWrapper = this.connection.manager.createChannel({
      name: this.name,
      confirm: false,
      json: false,
      setup: async (raw: Channel) => {
        // The 404 that closes the channel is an answer here, not a reason to drop the connection.
        raw.on('error', () => undefined);
        // Closed for any other reason (the connection dropped, the broker closed it): the wrapper
        // would wait for a reconnect that may never come, so the next question opens another.
        raw.once('close', () => {
          if (this.channel === channel) this.reset();
        });
      },
    });
    // A channel that could not be opened: the question waiting on it is bounded by its caller.
    channel.on('error', () => undefined);
    this.channel = channel;
    return channel;
  }
}
