import { Logger } from '@nestjs/common';
import amqp, { type AmqpConnectionManager } from 'amqp-connection-manager';

/** One broker connection per process, re-established automatically; channels are opened on it. */
export class AmqpConnection {
  private readonly logger = new Logger(AmqpConnection.name);
  readonly manager: AmqpConnectionManager;

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

  async close(): Promise<void> {
    await this.manager.close();
  }
}
