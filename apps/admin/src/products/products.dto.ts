import { ApiProperty } from '@nestjs/swagger';
import { PRODUCT_STATUSES } from '#domain';
import { Limit, OptionalOneOf, OptionalText, PathId } from '../http/fields.js';

const PRODUCT_ID = 'prod_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';

/** A count or an amount in minor units, as the database has it: an exact JSON integer. */
const Whole = (description: string, example = 2500) =>
  ApiProperty({ type: 'integer', format: 'int64', description, example });

export class ProductParams {
  @PathId(PRODUCT_ID)
  id!: string;
}

export class ProductSearchQuery {
  @OptionalText(64)
  tenantId?: string;

  @OptionalText(200, {
    description: 'Words in the name, category or description: any order, stemmed (web search syntax).',
    example: 'red lamp',
  })
  q?: string;

  @OptionalText(100, { example: 'lighting' })
  category?: string;

  @OptionalOneOf(PRODUCT_STATUSES)
  status?: string;

  @OptionalText(64, { description: 'The `nextBefore` of the previous page.' })
  before?: string;

  @Limit(50)
  limit?: number;
}

/** On hand = received − sold; available = on hand − reserved. */
export class ProductStockView {
  @Whole('Units received and not sold.', 100)
  onHand!: bigint;

  @Whole('Units held by live (reserved) orders.', 3)
  reserved!: bigint;

  @Whole('What a new order can take: on hand − reserved.', 97)
  available!: bigint;
}

export class ProductRatingView {
  @ApiProperty({ type: 'number', nullable: true, description: 'Null while unrated.', example: null })
  average!: number | null;

  @ApiProperty({ type: 'integer', example: 0 })
  count!: number;
}

/** A product as its tenant's API shows it, and whose it is. */
export class AdminProductView {
  @ApiProperty({ example: PRODUCT_ID })
  id!: string;

  @ApiProperty()
  tenantId!: string;

  @ApiProperty({ example: 'LAMP-RED-01' })
  sku!: string;

  @ApiProperty({ example: 'Red desk lamp' })
  name!: string;

  @ApiProperty({ type: 'string', nullable: true })
  description!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'lighting' })
  category!: string | null;

  @Whole('Unit price in minor units of `currency`.')
  price!: bigint;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ enum: PRODUCT_STATUSES })
  status!: string;

  @ApiProperty({ type: ProductStockView })
  stock!: ProductStockView;

  @ApiProperty({ type: ProductRatingView })
  rating!: ProductRatingView;

  @Whole('Units sold.', 0)
  purchases!: bigint;

  @ApiProperty({ type: 'number', minimum: 0, maximum: 1, description: 'Its ranking score in the catalog.' })
  score!: number;

  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata!: Record<string, unknown>;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  updatedAt!: string;
}

export class ProductPage {
  @ApiProperty({ type: [AdminProductView] })
  data!: AdminProductView[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as `before` for the next page; null on the last.',
  })
  nextBefore!: string | null;
}
