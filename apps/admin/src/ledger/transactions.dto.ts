import { ApiProperty } from '@nestjs/swagger';
import { MAX_AMOUNT, TRANSACTION_STATUSES, TRANSACTION_TYPES } from '#domain';
import { AMOUNT_TEXT, Limit, OptionalInstant, OptionalOneOf, OptionalText, PathId } from '../http/fields.js';

const TRANSACTION_ID = 'txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
const ACCOUNT_ID = 'acc_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';

export class TransactionParams {
  @PathId(TRANSACTION_ID)
  id!: string;
}

export class TransactionSearchQuery {
  @OptionalText(64, { example: TRANSACTION_ID })
  id?: string;

  @OptionalText(64)
  tenantId?: string;

  @OptionalText(64, { description: 'Either side of the transaction.', example: ACCOUNT_ID })
  accountId?: string;

  @OptionalOneOf(TRANSACTION_STATUSES)
  status?: string;

  @OptionalOneOf(TRANSACTION_TYPES)
  type?: string;

  @OptionalInstant('Created at or after.')
  from?: string;

  @OptionalInstant('Created before.')
  to?: string;

  @OptionalText(64, { description: 'The `nextBefore` of the previous page.' })
  before?: string;

  @Limit(50)
  limit?: number;
}

export class TransactionRowView {
  @ApiProperty({ example: TRANSACTION_ID })
  id!: string;

  @ApiProperty()
  tenantId!: string;

  @ApiProperty({ enum: TRANSACTION_TYPES })
  type!: string;

  @ApiProperty({ enum: TRANSACTION_STATUSES })
  status!: string;

  @ApiProperty(AMOUNT_TEXT)
  amount!: string;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ type: 'string', nullable: true })
  sourceAccountId!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  destinationAccountId!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'insufficient_funds' })
  failureCode!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  correlationId!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  completedAt!: Date | null;
}

export class TransactionPage {
  @ApiProperty({ type: [TransactionRowView] })
  data!: TransactionRowView[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as `before` for the next page; null on the last.',
  })
  nextBefore!: string | null;
}

export class FailureView {
  @ApiProperty({ example: 'insufficient_funds' })
  code!: string;

  @ApiProperty()
  message!: string;
}

/** A transaction as the public API shows it. */
export class TransactionView {
  @ApiProperty({ example: TRANSACTION_ID })
  id!: string;

  @ApiProperty({ enum: TRANSACTION_TYPES })
  type!: string;

  @ApiProperty({ enum: TRANSACTION_STATUSES })
  status!: string;

  @ApiProperty({ type: 'integer', format: 'int64', minimum: 1, maximum: Number(MAX_AMOUNT), example: 2500 })
  amount!: bigint;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ type: 'string', nullable: true })
  sourceAccountId!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  destinationAccountId!: string | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'The transaction a refund or capture belongs to.',
  })
  parentTransactionId!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  description!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata!: Record<string, unknown>;

  @ApiProperty({ type: FailureView, nullable: true })
  failure!: FailureView | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  completedAt!: string | null;
}

export class TimelineStepView {
  @ApiProperty({ type: 'string', format: 'date-time' })
  at!: Date;

  @ApiProperty({ example: 'transaction.requested published' })
  what!: string;
}

export class TransactionEntryView {
  @ApiProperty()
  id!: string;

  @ApiProperty({ example: ACCOUNT_ID })
  accountId!: string;

  @ApiProperty({ ...AMOUNT_TEXT, description: 'Signed: negative takes money from the account.' })
  amount!: string;

  @ApiProperty(AMOUNT_TEXT)
  balanceAfter!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;
}

export class TransactionMessageView {
  @ApiProperty()
  messageId!: string;

  @ApiProperty({ example: 'transaction.succeeded' })
  type!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  publishedAt!: Date | null;

  @ApiProperty({ type: 'integer' })
  publishAttempts!: number;
}

export class TransactionDeadLetterView {
  @ApiProperty()
  id!: string;

  @ApiProperty({ enum: ['pending', 'replayed', 'discarded'] })
  status!: string;

  @ApiProperty({ type: 'string', nullable: true })
  error!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  errorCode!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  failedAt!: Date;
}

export class TransactionDetailView extends TransactionView {
  @ApiProperty()
  tenantId!: string;

  @ApiProperty({ type: 'string', nullable: true })
  correlationId!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  updatedAt!: Date;

  @ApiProperty({ type: [TimelineStepView] })
  timeline!: TimelineStepView[];

  @ApiProperty({ type: [TransactionEntryView] })
  entries!: TransactionEntryView[];

  @ApiProperty({
    type: [TransactionMessageView],
    description: 'Its command and outcome events in the outbox.',
  })
  messages!: TransactionMessageView[];

  @ApiProperty({ type: [TransactionDeadLetterView] })
  deadLetters!: TransactionDeadLetterView[];
}
