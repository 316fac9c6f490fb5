import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, MaxLength, ValidateBy } from 'class-validator';
import { MAX_AMOUNT, PRODUCT_LIMITS, PRODUCT_SORTS, PRODUCT_STATUSES } from '#domain';
import {
  Amount,
  AmountOut,
  Currency,
  FlatOut,
  InstantOut,
  Metadata,
  OneOf,
  Optional,
  PageOf,
  Text,
} from '../http/fields.js';
import { PageQuery } from '../http/pagination.js';

export const PRODUCT_ID = 'prod_01JD3Z8Q4N6V3F5W7X9Y1A2B3C';

const { sku, name, description, category } = PRODUCT_LIMITS;

const STOCK_MESSAGE = `must be a whole number of units from 0 to ${MAX_AMOUNT}`;
const DELTA_MESSAGE = `must be a non-zero whole number of units between -${MAX_AMOUNT} and ${MAX_AMOUNT}`;

/** A JSON integer (number or exact bigint) as bigint; anything else as it came, to be refused. */
const toUnits = ({ value }: { value: unknown }) =>
  typeof value === 'bigint'
    ? value
    : typeof value === 'number' && Number.isSafeInteger(value)
      ? BigInt(value)
      : value;

const Units = (check: (n: bigint) => boolean, message: string) =>
  ValidateBy({
    name: 'units',
    validator: { validate: (v: unknown) => typeof v === 'bigint' && check(v), defaultMessage: () => message },
  });

/** POST /v1/products */
export class CreateProductDto {
  @Text(sku.min, sku.max, {
    description: 'Your stock-keeping unit: unique per tenant.',
    example: 'LAMP-RED-01',
  })
  sku!: string;

  @Text(name.min, name.max, { example: 'Red desk lamp' })
  name!: string;

  @Text(0, description.max, { required: false, nullable: true, example: 'A small lamp with a warm light.' })
  description?: string | null;

  @Text(category.min, category.max, { required: false, nullable: true, example: 'lighting' })
  category?: string | null;

  @Amount({ description: 'Unit price in minor units, as a JSON integer.', example: 2500 })
  price!: bigint;

  @Currency()
  currency!: string;

  @Optional()
  @Transform(toUnits)
  @Units((n) => n >= 0n && n <= MAX_AMOUNT, STOCK_MESSAGE)
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    minimum: 0,
    default: 0,
    example: 100,
    description: 'Units received.',
  })
  stock?: bigint;

  @Metadata()
  metadata?: Record<string, string | number | boolean | null>;
}

/** PATCH /v1/products/{id}: only the fields given change. */
export class UpdateProductDto {
  @Text(name.min, name.max, { required: false, example: 'Red desk lamp (2026)' })
  name?: string;

  @Text(0, description.max, { required: false, nullable: true })
  description?: string | null;

  @Text(category.min, category.max, { required: false, nullable: true })
  category?: string | null;

  @Amount({ required: false, description: 'A new price applies to orders placed after it.' })
  price?: bigint;

  @OneOf(PRODUCT_STATUSES, { required: false, description: 'Archived products cannot be ordered.' })
  status?: (typeof PRODUCT_STATUSES)[number];

  @Metadata()
  metadata?: Record<string, string | number | boolean | null>;
}

/** POST /v1/products/{id}/stock */
export class StockChangeDto {
  @Transform(toUnits)
  @Units((n) => n !== 0n && n >= -MAX_AMOUNT && n <= MAX_AMOUNT, DELTA_MESSAGE)
  @ApiProperty({
    type: 'integer',
    format: 'int64',
    example: 25,
    description:
      'Units received (positive) or written off (negative); on hand never drops below what is reserved.',
  })
  delta!: bigint;
}

/** GET /v1/products */
export class ListProductsQuery extends PageQuery {
  @Optional()
  @IsString({ message: 'must be a string' })
  @MaxLength(200, { message: 'must be at most 200 characters' })
  @ApiPropertyOptional({
    maxLength: 200,
    description: 'Full-text search over name, category and description: any word order, stemmed.',
    example: 'red lamps',
  })
  q?: string;

  @Text(category.min, category.max, {
    required: false,
    description: 'Only this category.',
    example: 'lighting',
  })
  category?: string;

  @OneOf(PRODUCT_STATUSES, { required: false, description: 'active (default) or archived.' })
  status?: (typeof PRODUCT_STATUSES)[number];

  @OneOf(PRODUCT_SORTS, { required: false, description: 'ranking (default), newest, price_asc, price_desc.' })
  sort?: (typeof PRODUCT_SORTS)[number];
}

/** A path naming a product. Any text: an id that is no product's is a 404, not a 400. */
export class ProductParams {
  @IsString()
  @ApiProperty({ description: 'The product.', example: PRODUCT_ID })
  id!: string;
}

/** A product's stock: on hand = received − sold; available = on hand − reserved. */
export class StockView {
  @AmountOut('Units received and not sold.', 100)
  onHand!: bigint;

  @AmountOut('Units held by live orders.', 3)
  reserved!: bigint;

  @AmountOut('What a new order can take: on hand − reserved.', 97)
  available!: bigint;
}

export class RatingView {
  @ApiProperty({
    type: 'number',
    nullable: true,
    description: 'Average rating, two decimals; null while unrated.',
    example: null,
  })
  average!: number | null;

  @ApiProperty({ type: 'integer', example: 0 })
  count!: number;
}

/** A product of the tenant's catalog. */
export class ProductView {
  @ApiProperty({ example: PRODUCT_ID })
  id!: string;

  @ApiProperty({ example: 'LAMP-RED-01' })
  sku!: string;

  @ApiProperty({ example: 'Red desk lamp' })
  name!: string;

  @ApiProperty({ type: 'string', nullable: true, example: 'A small lamp with a warm light.' })
  description!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'lighting' })
  category!: string | null;

  @AmountOut('Unit price in minor units.')
  price!: bigint;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ enum: PRODUCT_STATUSES })
  status!: string;

  @ApiProperty({ type: StockView })
  stock!: StockView;

  @ApiProperty({ type: RatingView })
  rating!: RatingView;

  @AmountOut('Units sold.', 0)
  purchases!: bigint;

  @ApiProperty({
    type: 'number',
    minimum: 0,
    maximum: 1,
    description: 'Ranking score: 0.5 × popularity + 0.3 × rating + 0.2 × recency, four decimals.',
    example: 0.2,
  })
  score!: number;

  @FlatOut(undefined, { color: 'red' })
  metadata!: Record<string, unknown>;

  @InstantOut()
  createdAt!: string;

  @InstantOut()
  updatedAt!: string;
}

export const ProductPage = PageOf(ProductView, 'ProductPage');

export const PRODUCT_EXAMPLE = {
  id: PRODUCT_ID,
  sku: 'LAMP-RED-01',
  name: 'Red desk lamp',
  description: 'A small lamp with a warm light.',
  category: 'lighting',
  price: 2500,
  currency: 'USD',
  status: 'active',
  stock: { onHand: 100, reserved: 3, available: 97 },
  rating: { average: null, count: 0 },
  purchases: 0,
  score: 0.2,
  metadata: { color: 'red' },
  createdAt: '2026-11-21T12:00:00.000Z',
  updatedAt: '2026-11-21T12:00:00.000Z',
};
