import { IsNotEmpty, IsString } from 'class-validator';
import type { TransactionRequested } from '#domain';

/** The `transaction.requested` command as the worker takes it from the queue. */
export class TransactionRequestedMessage implements TransactionRequested {
  @IsString()
  @IsNotEmpty()
  transactionId!: string;

  @IsString()
  @IsNotEmpty()
  tenantId!: string;
}
