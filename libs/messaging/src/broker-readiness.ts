import { Inject, Injectable } from '@nestjs/common';
import type { ReadinessCheck } from '#observability';
import { AmqpConnection } from './amqp-connection.js';

@Injectable()
export class BrokerReadiness implements ReadinessCheck {
  readonly name = 'broker';

  constructor(@Inject(AmqpConnection) private readonly connection: AmqpConnection) {}

  async check(): Promise<void> {
    if (!this.connection.isConnected()) throw new Error('not connected to RabbitMQ');
    // Connected comes a moment before the consumers are attached (topology declared, consume).
    if (!this.connection.isConsuming()) throw new Error('connected; consumers not attached yet');
  }
}
