import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';
import { PROVIDER_PAYOUT_STATUSES, type ProviderPayoutStatus } from '#domain';

/** The payout an event is about, as the provider reports it. */
export class ProviderPayoutDto {
  @IsString()
  @Length(1, 200)
  @ApiProperty({ description: "The provider's payout id.", example: 'po_3f1c2a9e' })
  id!: string;

  @IsOptional()
  @IsString()
  @Length(1, 200)
  @ApiPropertyOptional({
    nullable: true,
    description: 'What Tally sent as the reference: the withdrawal (transaction id).',
    example: 'txn_01JD3Z9T1M2N3P4Q5R6S7T8V9W',
  })
  reference?: string | null;

  @IsIn(PROVIDER_PAYOUT_STATUSES)
  @ApiProperty({ enum: PROVIDER_PAYOUT_STATUSES, example: 'paid' })
  status!: ProviderPayoutStatus;
}

/** POST /v1/provider-events: one event of the payment provider. */
export class ProviderEventDto {
  @IsString()
  @Length(1, 200)
  @Matches(/^[\x21-\x7e]+$/, { message: 'must be printable ASCII without spaces' })
  @ApiProperty({
    description: 'The event id; an id received before is acknowledged and ignored.',
    example: 'pevt_9a8b7c',
  })
  id!: string;

  @IsString()
  @Length(1, 100)
  @ApiProperty({
    description: 'What happened, e.g. `payout.paid` or `payout.returned`.',
    example: 'payout.paid',
  })
  type!: string;

  @IsObject()
  @ApiProperty({ type: ProviderPayoutDto })
  data!: ProviderPayoutDto;
}

/** The answer: the event is recorded (or was already). */
export class ProviderEventReceipt {
  @ApiProperty({ example: 'pevt_9a8b7c' })
  id!: string;

  @ApiProperty({
    description: 'True when this event id had been received before (nothing was done again).',
    example: false,
  })
  duplicate!: boolean;
}
