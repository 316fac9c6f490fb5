import amqp, { type Channel, type ChannelModel, type GetMessage, type Options } from 'amqplib';
import { testSettings } from './env.js';

/** Direct broker access for assertions: queue depths, reading a DLQ, raw publishing. */
export class BrokerProbe {
  private constructor(
    private readonly connection: ChannelModel,
    readonly channel: Channel,
  ) {}

  static async open(): Promise<BrokerProbe> {
    const connection = await amqp.connect(testSettings().amqpUrl);
    const channel = await connection.createChannel();
    return new BrokerProbe(connection, channel);
  }

  async depth(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  /** Takes (and acks) every message waiting in `queue`. */
  async drain(queue: string): Promise<GetMessage[]> {
    const taken: GetMessage[] = [];
    for (;;) {
      const message = await this.channel.get(queue, { noAck: false });
      if (!message) return taken;
      this.channel.ack(message);
      taken.push(message);
    }
  }

  /** Publishes and waits for the broker's confirm (a plain publish may be lost by an immediate close). */
  async publishConfirmed(
    exchange: string,
    routingKey: string,
    /** A value to serialise, or the JSON text itself. */
    body: object | string,
    options: Options.Publish,
  ): Promise<void> {
    const channel = await this.connection.createConfirmChannel();
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    channel.publish(exchange, routingKey, Buffer.from(text), {
      persistent: true,
      ...options,
    });
    await channel.waitForConfirms();
    await channel.close();
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}
