import { BaseRpcContext } from '@nestjs/microservices';
import type { ConsumeMessage } from 'amqplib';
import { Headers } from './headers.js';

/** What a handler can know about the message it is handling (second argument of an @EventPattern handler). */
export class AmqpContext extends BaseRpcContext<[ConsumeMessage, string]> {
  private duplicate = false;

  constructor(message: ConsumeMessage, queue: string) {
    super([message, queue]);
  }

  get message(): ConsumeMessage {
    return this.args[0];
  }

  /** Logical name of the queue the message came from. */
  get queue(): string {
    return this.args[1];
  }

  get messageId(): string {
    return String(this.message.properties.messageId);
  }

  get correlationId(): string | undefined {
    return this.message.properties.correlationId ?? undefined;
  }

  get type(): string {
    return this.message.properties.type ?? this.message.fields.routingKey;
  }

  get attempt(): number {
    const value = Number(this.message.properties.headers?.[Headers.attempt] ?? 1);
    return Number.isInteger(value) && value > 0 ? value : 1;
  }

  get schemaVersion(): number {
    return Number(this.message.properties.headers?.[Headers.schemaVersion] ?? 1);
  }

  /** Called when the inbox shows this message was already handled: the outcome is counted as a duplicate. */
  markDuplicate(): void {
    this.duplicate = true;
  }

  get isDuplicate(): boolean {
    return this.duplicate;
  }
}
