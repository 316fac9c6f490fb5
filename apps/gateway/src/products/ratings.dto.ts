import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import { RATING_LIMITS } from '#domain';
import { InstantOut, ResourceId, Text } from '../http/fields.js';
import { PRODUCT_ID } from './products.dto.js';

const ACCOUNT_ID = 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C';
const RATING_MESSAGE = `must be a whole number from ${RATING_LIMITS.min} to ${RATING_LIMITS.max}`;

/** POST /v1/products/{id}/ratings */
export class RateProductDto {
  @ResourceId(ACCOUNT_ID, {
    description: 'The account rating: it must have a completed order for the product.',
  })
  accountId!: string;

  @Transform(({ value }) => (typeof value === 'bigint' && value >= 1n && value <= 5n ? Number(value) : value))
  @ValidateBy({
    name: 'rating',
    validator: {
      validate: (v: unknown) =>
        typeof v === 'number' && Number.isInteger(v) && v >= RATING_LIMITS.min && v <= RATING_LIMITS.max,
      defaultMessage: () => RATING_MESSAGE,
    },
  })
  @ApiProperty({ type: 'integer', minimum: RATING_LIMITS.min, maximum: RATING_LIMITS.max, example: 5 })
  rating!: number;

  @Text(0, RATING_LIMITS.comment.max, { required: false, nullable: true, example: 'Warm light, sturdy.' })
  comment?: string | null;
}

/** An account's rating of a product (one per account and product; the latest counts). */
export class RatingOut {
  @ApiProperty({ example: PRODUCT_ID })
  productId!: string;

  @ApiProperty({ example: ACCOUNT_ID })
  accountId!: string;

  @ApiProperty({ type: 'integer', minimum: RATING_LIMITS.min, maximum: RATING_LIMITS.max, example: 5 })
  rating!: number;

  @ApiProperty({ type: 'string', nullable: true, example: 'Warm light, sturdy.' })
  comment!: string | null;

  @InstantOut('When the account first rated the product.')
  createdAt!: string;

  @InstantOut('When the rating last changed.')
  updatedAt!: string;
}

export const RATING_EXAMPLE = {
  productId: PRODUCT_ID,
  accountId: ACCOUNT_ID,
  rating: 5,
  comment: 'Warm light, sturdy.',
  createdAt: '2026-11-21T12:00:00.000Z',
  updatedAt: '2026-11-21T12:00:00.000Z',
};
