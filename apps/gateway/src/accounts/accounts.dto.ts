import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { Currency, Metadata, Text, Threshold } from '../http/fields.js';
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
