import { Logger } from '@nestjs/common';
import amqp, { type AmqpConnectionManager } from 'amqp-connection-manager';

/** One broker connection per process, re-established automatically; channels are opened on it. */
export class AmqpConnection {
  private readonly logger = new Logger(AmqpConnection.name);
  readonly manager: AmqpConnectionManager;
  /** Whether each consumer of this process has its consumers attached (readiness). */
  private readonly consumers = new Set<() => boolean>();

  constructor(url: string, connectionName: string) {
    this.manager = amqp.connect([url], {
      heartbeatIntervalInSeconds: 5,
      reconnectTimeInSeconds: 1,
      connectionOptions: { clientProperties: { connection_name: connectionName } },
    });
    this.manager.on('connect', () => this.logger.log('connected to the broker'));
    this.manager.on('disconnect', ({ err }) =>
      this.logger.warn(`broker connection lost: ${err?.message ?? 'closed'}`),
    );
    this.manager.on('connectFailed', ({ err }) =>
      this.logger.warn(`broker connection failed: ${err.message}`),
    );
  }

  isConnected(): boolean {
    return this.manager.isConnected();
  }

  /** A consumer (transport) of this process reports whether its queues are being consumed. */
  addConsumer(isConsuming: () => boolean): void {
    this.consumers.add(isConsuming);
  }

  /** Connected, and every consumer of this process attached to its queues. */
  isConsuming(): boolean {
    return this.isConnected() && [...this.consumers].every((consuming) => consuming());
  }

  async close(): Promise<void> {
    await this.manager.close();
  }
}
