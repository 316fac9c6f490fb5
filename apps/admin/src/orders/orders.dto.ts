import { ApiProperty } from '@nestjs/swagger';
import { HOLD_STATUSES, ORDER_STATUSES, TRANSACTION_STATUSES } from '#domain';
import { Limit, OptionalInstant, OptionalOneOf, OptionalText, PathId } from '../http/fields.js';
import { FailureView } from '../ledger/transactions.dto.js';

const ORDER_ID = 'ord_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
const ACCOUNT_ID = 'acc_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
const TRANSACTION_ID = 'txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';

/** A count or an amount in minor units: an exact JSON integer. */
const Whole = (description: string, example = 2500) =>
  ApiProperty({ type: 'integer', format: 'int64', description, example });

export class OrderParams {
  @PathId(ORDER_ID)
  id!: string;
}

export class OrderSearchQuery {
  @OptionalText(64)
  tenantId?: string;

  @OptionalText(64, { description: 'The wallet that pays.', example: ACCOUNT_ID })
  accountId?: string;

  @OptionalOneOf(ORDER_STATUSES)
  status?: string;

  @OptionalInstant('Placed at or after.')
  from?: string;

  @OptionalInstant('Placed before.')
  to?: string;

  @OptionalText(64, { description: 'The `nextBefore` of the previous page.' })
  before?: string;

  @Limit(50)
  limit?: number;
}

export class OrderLineView {
  @ApiProperty({ example: 'prod_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  productId!: string;

  @ApiProperty({ example: 'LAMP-RED-01' })
  sku!: string;

  @ApiProperty({ example: 'Red desk lamp' })
  name!: string;

  @Whole('Units.', 2)
  quantity!: bigint;

  @Whole('The price when the order was placed.')
  unitPrice!: bigint;

  @Whole('quantity × unitPrice.', 5000)
  amount!: bigint;
}

/** An order as its tenant's API shows it, and whose it is. */
export class AdminOrderView {
  @ApiProperty({ example: ORDER_ID })
  id!: string;

  @ApiProperty()
  tenantId!: string;

  @ApiProperty({ example: ACCOUNT_ID })
  accountId!: string;

  @ApiProperty({ enum: ORDER_STATUSES })
  status!: string;

  @ApiProperty({ type: [OrderLineView] })
  items!: OrderLineView[];

  @Whole('The sum of the lines, in minor units of `currency`.', 5000)
  total!: bigint;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ example: 'hold_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  holdId!: string;

  @ApiProperty({ type: 'string', nullable: true, description: 'The capture, once completed.' })
  transactionId!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'ana@example.com' })
  customerEmail!: string | null;

  @ApiProperty({ type: FailureView, nullable: true })
  failure!: FailureView | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata!: Record<string, unknown>;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  completedAt!: string | null;
}

export class OrderPage {
  @ApiProperty({ type: [AdminOrderView] })
  data!: AdminOrderView[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as `before` for the next page; null on the last.',
  })
  nextBefore!: string | null;
}

/** The wallet hold that pays for the order. */
export class OrderHoldView {
  @ApiProperty({ example: 'hold_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  id!: string;

  @ApiProperty({ enum: HOLD_STATUSES })
  status!: string;

  @Whole('Held, in minor units of `currency`.', 5000)
  amount!: bigint;

  @ApiProperty({ type: 'integer', format: 'int64', nullable: true, description: 'What its capture took.' })
  capturedAmount!: bigint | null;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  expiresAt!: string;
}

/** The capture that completed the order. */
export class OrderTransactionView {
  @ApiProperty({ example: TRANSACTION_ID })
  id!: string;

  @ApiProperty({ enum: TRANSACTION_STATUSES })
  status!: string;

  @ApiProperty({
    description: 'Its detail in this API.',
    example: `/admin/api/transactions/${TRANSACTION_ID}`,
  })
  url!: string;
}

/** An `order.*` message about the order in the outbox: its command, then its outcome event. */
export class OrderEventView {
  @ApiProperty()
  messageId!: string;

  @ApiProperty({ example: 'order.completed' })
  type!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  publishedAt!: Date | null;
}

export class OrderDetailView extends AdminOrderView {
  @ApiProperty({ type: 'string', nullable: true })
  correlationId!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time', description: 'When the reservation sweep cancels it.' })
  reservedUntil!: string;

  @ApiProperty({ type: OrderHoldView })
  hold!: OrderHoldView;

  @ApiProperty({ type: OrderTransactionView, nullable: true })
  transaction!: OrderTransactionView | null;

  @ApiProperty({ type: [OrderEventView], description: 'In the order they were written.' })
  events!: OrderEventView[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Its PDF receipt; null until the order is completed.',
    example: `/admin/api/orders/${ORDER_ID}/receipt`,
  })
  receiptUrl!: string | null;
}
