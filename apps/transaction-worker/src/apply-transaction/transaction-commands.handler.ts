import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { MessageTypes } from '#domain';
import { AmqpContext, ValidPayload } from '#messaging';
import { TransactionBatcher } from './transaction-batcher.js';
import { TransactionRequestedMessage } from './transaction-requested.message.js';

@Controller()
export class TransactionCommandsHandler {
  constructor(@Inject(TransactionBatcher) private readonly batcher: TransactionBatcher) {}

  /** Acked by the transport once this command's batch has committed; a malformed one never reaches it. */
  @EventPattern<string>(MessageTypes.transactionRequested)
  async onTransactionRequested(
    @Payload(new ValidPayload(TransactionRequestedMessage, 'malformed_command'))
    command: TransactionRequestedMessage,
    @Ctx() ctx: AmqpContext,
  ): Promise<void> {
    await this.batcher.submit(ctx, command.transactionId);
  }
}
