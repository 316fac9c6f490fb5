import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { HOLD_EXPIRY_SECONDS } from '#domain';
import { Amount, Currency, Optional, ResourceId } from '../http/fields.js';

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
