import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import {
  AmountOut,
  Currency,
  FlatOut,
  InstantOut,
  Metadata,
  PageOf,
  Text,
  Threshold,
} from '../http/fields.js';
import { PageQuery } from '../http/pagination.js';

export const ACCOUNT_ID = 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C';

/** POST /v1/accounts */
export class CreateAccountDto {
  @Currency()
  currency!: string;

  @Text(1, 200, {
    required: false,
    nullable: true,
    description: 'Your own reference (a user id): unique per tenant, to find the account by.',
    example: 'user_42',
  })
  externalRef?: string | null;

  @Metadata()
  metadata?: Record<string, string | number | boolean | null>;

  @Threshold('Below this available balance, an `account.low_balance` webhook is sent (once per crossing).')
  lowBalanceThreshold?: bigint | null;
}

/** GET /v1/accounts */
export class ListAccountsQuery extends PageQuery {
  @Text(1, 200, { required: false, description: 'Only the account with this reference.', example: 'user_42' })
  externalRef?: string;
}

/** A path naming an account. Any text: an id that is no account's is a 404, not a 400. */
export class AccountParams {
  @IsString()
  @ApiProperty({ description: 'The account.', example: ACCOUNT_ID })
  id!: string;
}

export class BalanceView {
  @AmountOut('Money in the account, after every applied transaction.', 10000)
  posted!: bigint;

  @AmountOut('Reserved by active holds.', 0)
  held!: bigint;

  @AmountOut('posted − held: what can be spent or held now.', 10000)
  available!: bigint;
}

/** An account and its balance. */
export class AccountView {
  @ApiProperty({ example: ACCOUNT_ID })
  id!: string;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ type: 'string', nullable: true, example: 'user_42' })
  externalRef!: string | null;

  @ApiProperty({
    enum: ['active', 'frozen'],
    description: 'A frozen account takes part in no new transaction.',
  })
  status!: 'active' | 'frozen';

  @ApiProperty({ type: BalanceView })
  balance!: BalanceView;

  @ApiProperty({ type: 'integer', format: 'int64', nullable: true, example: 500 })
  lowBalanceThreshold!: bigint | null;

  @FlatOut()
  metadata!: Record<string, unknown>;

  @InstantOut()
  createdAt!: string;
}

/** One line of an account's ledger. */
export class EntryView {
  @ApiProperty({ example: 'ent_01JD3ZA0000000000000000000' })
  id!: string;

  @ApiProperty({ example: 'txn_01JD3Z9T1M2N3P4Q5R6S7T8V9W' })
  transactionId!: string;

  @AmountOut('Signed: + into the account, − out of it.')
  amount!: bigint;

  @AmountOut('The posted balance after this entry.', 12500)
  balanceAfter!: bigint;

  @InstantOut()
  createdAt!: string;
}

export class AccountPage extends PageOf(AccountView, 'AccountPage') {}
export class EntryPage extends PageOf(EntryView, 'EntryPage') {}

export const ACCOUNT_EXAMPLE = {
  id: ACCOUNT_ID,
  currency: 'USD',
  externalRef: 'user_42',
  status: 'active',
  balance: { posted: 10000, held: 0, available: 10000 },
  lowBalanceThreshold: 500,
  metadata: {},
  createdAt: '2026-11-21T12:00:00.000Z',
};
