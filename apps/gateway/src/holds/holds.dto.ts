import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { HOLD_EXPIRY_SECONDS, HOLD_STATUSES } from '#domain';
import { Amount, AmountOut, Currency, InstantOut, Optional, ResourceId } from '../http/fields.js';

export const HOLD_ID = 'hold_01JD3ZB2C3D4E5F6G7H8J9K0MN';
const SECONDS_MESSAGE = 'must be a whole number of seconds';

/** POST /v1/holds */
export class CreateHoldDto {
  @ResourceId('acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C', { description: 'The account whose funds are reserved.' })
  accountId!: string;

  @Amount()
  amount!: bigint;

  @Currency()
  currency!: string;

  @Optional()
  @IsInt({ message: SECONDS_MESSAGE })
  @Min(HOLD_EXPIRY_SECONDS.min, { message: `must be at least ${HOLD_EXPIRY_SECONDS.min} seconds` })
  @Max(HOLD_EXPIRY_SECONDS.max, { message: `must be at most ${HOLD_EXPIRY_SECONDS.max} seconds` })
  @ApiPropertyOptional({
    type: 'integer',
    minimum: HOLD_EXPIRY_SECONDS.min,
    maximum: HOLD_EXPIRY_SECONDS.max,
    default: HOLD_EXPIRY_SECONDS.default,
    description: 'Seconds until an uncaptured hold expires and releases its funds.',
  })
  expiresInSeconds?: number;
}

/** POST /v1/holds/{id}/capture */
export class CaptureHoldDto {
  @Amount({
    required: false,
    description: 'Minor units to capture, at most the hold; the whole hold if absent. The rest is released.',
  })
  amount?: bigint;
}

/** POST /v1/holds/{id}/void: no fields; an empty object or no body. */
export class VoidHoldDto {}

/** A path naming a hold. Any text: an id that is no hold's is a 404. */
export class HoldParams {
  @IsString()
  @ApiProperty({ description: 'The hold.', example: HOLD_ID })
  id!: string;
}

/** Funds reserved on an account, to capture or void later. */
export class HoldView {
  @ApiProperty({ example: HOLD_ID })
  id!: string;

  @ApiProperty({ example: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C' })
  accountId!: string;

  @AmountOut()
  amount!: bigint;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({
    enum: HOLD_STATUSES,
    description: "`expired`: released by the worker's expiry sweep once `expiresAt` passed.",
  })
  status!: string;

  @InstantOut('Past this it can no longer be captured or voided.')
  expiresAt!: string;

  @InstantOut()
  createdAt!: string;
}

export const HOLD_EXAMPLE = {
  id: HOLD_ID,
  accountId: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C',
  amount: 2500,
  currency: 'USD',
  status: 'active',
  expiresAt: '2026-11-28T12:00:00.000Z',
  createdAt: '2026-11-21T12:00:00.000Z',
};

/** The transaction a capture answers. */
export const CAPTURE_EXAMPLE = {
  id: 'txn_01JD3ZD4E5F6G7H8J9K0M1N2P3',
  type: 'capture',
  status: 'pending',
  amount: 2000,
  currency: 'USD',
  sourceAccountId: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C',
  destinationAccountId: null,
  parentTransactionId: null,
  description: null,
  metadata: { holdId: HOLD_ID },
  failure: null,
  createdAt: '2026-11-21T12:00:00.000Z',
  completedAt: null,
};
