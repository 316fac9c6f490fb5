import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { MessageTypes, type TransactionRequested } from '#domain';
import { AmqpContext, InboxProcessor, PermanentMessageError } from '#messaging';
import { ApplyTransaction } from './apply-transaction.use-case.js';

export const WORKER_CONSUMER = 'transaction-worker';

@Controller()
export class TransactionCommandsHandler {
  constructor(
    @Inject(InboxProcessor) private readonly inbox: InboxProcessor,
    @Inject(ApplyTransaction) private readonly applyTransaction: ApplyTransaction,
  ) {}

  @EventPattern<string>(MessageTypes.transactionRequested)
  async onTransactionRequested(
    @Payload() command: TransactionRequested,
    @Ctx() ctx: AmqpContext,
  ): Promise<void> {
    if (typeof command?.transactionId !== 'string') {
      throw new PermanentMessageError('transaction.requested without a transactionId', 'malformed_command');
    }
    await this.inbox.process(ctx, WORKER_CONSUMER, (manager) =>
      this.applyTransaction.execute(manager, command.transactionId),
    );
  }
}
