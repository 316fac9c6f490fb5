import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { Reason } from '../http/fields.js';

/** A path naming a payout by its withdrawal. */
export class PayoutMismatchParams {
  @IsString()
  @ApiProperty({ description: 'The withdrawal (transaction id).', example: 'txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  transactionId!: string;
}

/** POST /admin/api/payout-mismatches/{transactionId}/settle */
export class SettlePayoutMismatchBody {
  @Reason()
  reason!: string;

  @IsOptional()
  @IsIn(['succeeded', 'failed'])
  @ApiPropertyOptional({
    enum: ['succeeded', 'failed'],
    description:
      'For a payout without an outcome yet (unknown): succeeded (paid: the held funds are spent) or failed (released). ' +
      'Not taken for a final one: resolving it records the decision; money is corrected by an adjustment.',
  })
  outcome?: 'succeeded' | 'failed';
}

/** What reconciliation found differs between Tally and the provider. */
export class PayoutMismatchView {
  @ApiProperty({ example: 'txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  transactionId!: string;

  @ApiProperty({ example: 'ten_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  tenantId!: string;

  @ApiProperty({ enum: ['paid_but_failed', 'failed_but_succeeded', 'unknown_to_provider'] })
  kind!: string;

  @ApiProperty({ description: "Tally's payout status when found.", example: 'unknown' })
  tallyStatus!: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: "The provider's payout status.",
    example: 'paid',
  })
  providerStatus!: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'po_3f1c2a9e' })
  providerPayoutId!: string | null;

  @ApiProperty({ example: '2026-12-01T10:00:00.000Z' })
  foundAt!: string;
}

export class PayoutMismatchList {
  @ApiProperty({ type: [PayoutMismatchView] })
  data!: PayoutMismatchView[];
}

export class SettledMismatchView {
  @ApiProperty({ example: 'txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  transactionId!: string;

  @ApiProperty({
    description: 'What was done: the outcome applied, or `acknowledged` for a payout that was final already.',
    enum: ['succeeded', 'failed', 'acknowledged'],
  })
  resolution!: 'succeeded' | 'failed' | 'acknowledged';
}
