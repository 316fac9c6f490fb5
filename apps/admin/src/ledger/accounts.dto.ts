import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { IsAmount } from '#http';
import { MAX_AMOUNT } from '#domain';
import { AMOUNT_TEXT, Before, Limit, NextBefore, OptionalText, PathId, Reason } from '../http/fields.js';

const ACCOUNT_ID = 'acc_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';

export class AccountParams {
  @PathId(ACCOUNT_ID)
  id!: string;
}

export class AccountListQuery {
  @OptionalText(64)
  tenantId?: string;

  @OptionalText(64, { example: ACCOUNT_ID })
  id?: string;

  @Before()
  before?: string;

  @Limit(100)
  limit?: number;
}

export class AdjustmentBody {
  @IsIn(['credit', 'debit'])
  @ApiProperty({ enum: ['credit', 'debit'], description: 'credit adds to the balance, debit takes from it.' })
  direction!: 'credit' | 'debit';

  @IsAmount({ digitStrings: true })
  @ApiProperty({
    oneOf: [
      { type: 'integer', minimum: 1, maximum: Number(MAX_AMOUNT) },
      { type: 'string', pattern: '^[1-9]\\d{0,18}$' },
    ],
    description: `Minor units, 1 to ${MAX_AMOUNT}: a JSON integer, or its digits in a string.`,
    example: 2500,
  })
  amount!: bigint;

  @Reason()
  reason!: string;
}

export class AccountView {
  @ApiProperty({ example: ACCOUNT_ID })
  id!: string;

  @ApiProperty()
  tenantId!: string;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ type: 'string', nullable: true })
  externalRef!: string | null;

  @ApiProperty({ enum: ['active', 'frozen'] })
  status!: string;

  @ApiProperty({ ...AMOUNT_TEXT, description: 'The posted balance.' })
  posted!: string;

  @ApiProperty({ ...AMOUNT_TEXT, description: 'Reserved by active holds.' })
  held!: string;

  @ApiProperty({ ...AMOUNT_TEXT, description: 'posted − held.' })
  available!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;
}

export class AccountList {
  @ApiProperty({ type: [AccountView] })
  data!: AccountView[];

  @NextBefore()
  nextBefore!: string | null;
}

export class AccountEntryView {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  transactionId!: string;

  @ApiProperty({ example: 'deposit' })
  type!: string;

  @ApiProperty({ ...AMOUNT_TEXT, description: 'Signed: negative takes money from the account.' })
  amount!: string;

  @ApiProperty(AMOUNT_TEXT)
  balanceAfter!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;
}

export class AccountDetailView extends AccountView {
  @ApiProperty({ type: 'string', pattern: '^\\d+$', nullable: true })
  lowBalanceThreshold!: string | null;

  @ApiProperty({ type: [AccountEntryView], description: 'The latest 100, newest first.' })
  entries!: AccountEntryView[];
}

export class AccountStatusView {
  @ApiProperty({ example: ACCOUNT_ID })
  id!: string;

  @ApiProperty({ enum: ['active', 'frozen'] })
  status!: 'active' | 'frozen';
}
