import { ApiProperty, getSchemaPath } from '@nestjs/swagger';
import { IsIn, IsString, ValidateBy } from 'class-validator';
import { TRANSACTION_STATUSES, TRANSACTION_TYPES } from '#domain';
import { ValidationError } from '#http';
import {
  Amount,
  AmountOut,
  Currency,
  Description,
  FlatOut,
  InstantOut,
  Metadata,
  OneOf,
  PageOf,
  ResourceId,
} from '../http/fields.js';
import { PageQuery } from '../http/pagination.js';
import { check, unstorableFields } from '../http/validation.js';

export const TRANSACTION_ID = 'txn_01JD3Z9T1M2N3P4Q5R6S7T8V9W';
const ACC = 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C';
const ACC2 = 'acc_01JD3Z8QAA6V3F5W7X9Y1A2B3D';

/** What every new transaction may carry. */
abstract class TransactionBody {
  @Description()
  description?: string;

  @Metadata()
  metadata?: Record<string, string | number | boolean | null>;
}

/** Money from outside into an account. */
export class DepositDto extends TransactionBody {
  @IsIn(['deposit'])
  @ApiProperty({ enum: ['deposit'] })
  type!: 'deposit';

  @ResourceId(ACC, { description: 'The account credited.' })
  destinationAccountId!: string;

  @Amount()
  amount!: bigint;

  @Currency()
  currency!: string;
}

/** Money out of an account, to outside. */
export class WithdrawalDto extends TransactionBody {
  @IsIn(['withdrawal'])
  @ApiProperty({ enum: ['withdrawal'] })
  type!: 'withdrawal';

  @ResourceId(ACC, { description: 'The account debited.' })
  sourceAccountId!: string;

  @Amount()
  amount!: bigint;

  @Currency()
  currency!: string;
}

/** Money between two accounts of the tenant, in one currency. */
export class TransferDto extends TransactionBody {
  @IsIn(['transfer'])
  @ApiProperty({ enum: ['transfer'] })
  type!: 'transfer';

  @ResourceId(ACC, { description: 'The account debited.' })
  sourceAccountId!: string;

  @ResourceId(ACC2, { description: 'The account credited: another one than the source.' })
  @ValidateBy({
    name: 'differsFromSource',
    validator: {
      validate: (value, args) => value !== (args?.object as TransferDto).sourceAccountId,
      defaultMessage: () => 'must differ from sourceAccountId',
    },
  })
  destinationAccountId!: string;

  @Amount()
  amount!: bigint;

  @Currency()
  currency!: string;
}

/** A payment to the tenant (its revenue) out of an account. */
export class ChargeDto extends TransactionBody {
  @IsIn(['charge'])
  @ApiProperty({ enum: ['charge'] })
  type!: 'charge';

  @ResourceId(ACC, { description: 'The account charged.' })
  sourceAccountId!: string;

  @Amount()
  amount!: bigint;

  @Currency()
  currency!: string;
}

/** Money back from a succeeded charge, withdrawal or capture: all of what remains, or `amount`. */
export class RefundDto extends TransactionBody {
  @IsIn(['refund'])
  @ApiProperty({ enum: ['refund'] })
  type!: 'refund';

  @ResourceId(TRANSACTION_ID, { description: 'The transaction refunded.' })
  parentTransactionId!: string;

  @Amount({ required: false, description: 'Minor units to refund; all that remains refundable if absent.' })
  amount?: bigint;
}

/** POST /v1/transactions: the DTO class of each `type`. */
export const TRANSACTION_BODIES = {
  deposit: DepositDto,
  withdrawal: WithdrawalDto,
  transfer: TransferDto,
  charge: ChargeDto,
  refund: RefundDto,
} as const;

export type CreateTransactionCommand = InstanceType<
  (typeof TRANSACTION_BODIES)[keyof typeof TRANSACTION_BODIES]
>;

const BODY_TYPES = Object.keys(TRANSACTION_BODIES);

/** The request body's schema: one of the bodies, chosen by `type`. */
export const TRANSACTION_BODY_SCHEMA = {
  oneOf: Object.values(TRANSACTION_BODIES).map((dto) => ({ $ref: getSchemaPath(dto) })),
  discriminator: {
    propertyName: 'type',
    mapping: Object.fromEntries(
      Object.entries(TRANSACTION_BODIES).map(([type, dto]) => [type, getSchemaPath(dto)]),
    ),
  },
};

/**
 * The body of POST /v1/transactions as the DTO class its `type` names, checked synchronously (the
 * hot path): unstorable text first, then the class's rules. An unknown `type` is a field error.
 * Called by the handler, after the Idempotency-Key check, which comes first.
 */
export function transactionCommandOf(body: unknown): CreateTransactionCommand {
  const input = body ?? {};
  const type = isObject(input) ? input.type : undefined;
  const dto =
    typeof type === 'string' && Object.hasOwn(TRANSACTION_BODIES, type)
      ? TRANSACTION_BODIES[type as keyof typeof TRANSACTION_BODIES]
      : null;
  if (dto) {
    const checked = check<CreateTransactionCommand>(dto, input);
    if (checked.errors) throw new ValidationError(checked.errors);
    return checked.value;
  }
  const unstorable = unstorableFields(input);
  if (unstorable.length > 0) throw new ValidationError(unstorable);
  if (!isObject(input)) throw new ValidationError([{ field: '(body)', message: 'must be a JSON object' }]);
  throw new ValidationError([{ field: 'type', message: `must be one of: ${BODY_TYPES.join(', ')}` }]);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** GET /v1/transactions */
export class ListTransactionsQuery extends PageQuery {
  @ResourceId(ACC, { required: false, description: 'Only those moving money from or to this account.' })
  accountId?: string;

  @OneOf(TRANSACTION_STATUSES, { required: false })
  status?: (typeof TRANSACTION_STATUSES)[number];

  @OneOf(TRANSACTION_TYPES, { required: false })
  type?: (typeof TRANSACTION_TYPES)[number];
}

/** A path naming a transaction. Any text: an id that is no transaction's is a 404. */
export class TransactionParams {
  @IsString()
  @ApiProperty({ description: 'The transaction.', example: TRANSACTION_ID })
  id!: string;
}

/** Why a transaction failed. */
export class FailureView {
  @ApiProperty({ example: 'insufficient_funds' })
  code!: string;

  @ApiProperty({ example: 'The available balance of the account is less than the amount.' })
  message!: string;
}

/** A transaction: requested, applied in the background, then final (succeeded or failed). */
export class TransactionView {
  @ApiProperty({ example: TRANSACTION_ID })
  id!: string;

  @ApiProperty({
    enum: TRANSACTION_TYPES,
    description:
      '`capture` is the settlement of a hold (POST /v1/holds/{id}/capture); POST /v1/transactions does not accept it.',
    example: 'transfer',
  })
  type!: string;

  @ApiProperty({ enum: TRANSACTION_STATUSES, example: 'pending' })
  status!: string;

  @AmountOut()
  amount!: bigint;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ type: 'string', nullable: true, example: ACC })
  sourceAccountId!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: ACC2 })
  destinationAccountId!: string | null;

  @ApiProperty({ type: 'string', nullable: true, description: 'The transaction a refund refunds.' })
  parentTransactionId!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'Invoice 2024-117' })
  description!: string | null;

  @FlatOut()
  metadata!: Record<string, unknown>;

  @ApiProperty({ type: FailureView, nullable: true, description: 'Why it failed; null unless `failed`.' })
  failure!: FailureView | null;

  @InstantOut()
  createdAt!: string;

  @InstantOut('When it became final.', true)
  completedAt!: string | null;
}

export class TransactionPage extends PageOf(TransactionView, 'TransactionPage') {}

export const TRANSACTION_EXAMPLE = {
  id: TRANSACTION_ID,
  type: 'transfer',
  status: 'pending',
  amount: 2500,
  currency: 'USD',
  sourceAccountId: ACC,
  destinationAccountId: ACC2,
  parentTransactionId: null,
  description: 'Invoice 2024-117',
  metadata: { orderId: 'ord_981' },
  failure: null,
  createdAt: '2026-11-21T12:00:00.000Z',
  completedAt: null,
};

/** One example request body per `type`. */
export const TRANSACTION_BODY_EXAMPLES = {
  deposit: {
    summary: 'deposit',
    value: { type: 'deposit', destinationAccountId: ACC, amount: 10000, currency: 'USD' },
  },
  withdrawal: {
    summary: 'withdrawal',
    value: { type: 'withdrawal', sourceAccountId: ACC, amount: 2000, currency: 'USD' },
  },
  transfer: {
    summary: 'transfer',
    value: {
      type: 'transfer',
      sourceAccountId: ACC,
      destinationAccountId: ACC2,
      amount: 2500,
      currency: 'USD',
      description: 'Invoice 2024-117',
    },
  },
  charge: {
    summary: 'charge',
    value: { type: 'charge', sourceAccountId: ACC, amount: 990, currency: 'USD' },
  },
  refund: { summary: 'refund', value: { type: 'refund', parentTransactionId: TRANSACTION_ID, amount: 500 } },
};
