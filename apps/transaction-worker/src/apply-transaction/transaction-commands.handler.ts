import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { MessageTypes, type TransactionRequested } from '#domain';
import { AmqpContext, PermanentMessageError } from '#messaging';
import { TransactionBatcher } from './transaction-batcher.js';

@Controller()
export class TransactionCommandsHandler {
  constructor(@Inject(TransactionBatcher) private readonly batcher: TransactionBatcher) {}

  /** Acked by the transport once this command's batch has committed. */
  @EventPattern<string>(MessageTypes.transactionRequested)
  async onTransactionRequested(
    @Payload() command: TransactionRequested,
    @Ctx() ctx: AmqpContext,
  ): Promise<void> {
    if (typeof command?.transactionId !== 'string') {
      throw new PermanentMessageError('transaction.requested without a transactionId', 'malformed_command');
    }
    await this.batcher.submit(ctx, command.transactionId);
  }
}
