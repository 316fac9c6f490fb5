import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsString,
  MaxLength,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { ORDER_LIMITS, ORDER_STATUSES } from '#domain';
import {
  AmountOut,
  FlatOut,
  InstantOut,
  Metadata,
  Nullable,
  OneOf,
  ResourceId,
  Text,
} from '../http/fields.js';
import { PageQuery } from '../http/pagination.js';
import { PRODUCT_ID } from '../products/products.dto.js';

export const ORDER_ID = 'ord_01JD3ZF6G7H8J9K0M1N2P3Q4R5';
const { items, quantity } = ORDER_LIMITS;
const QUANTITY_MESSAGE = `must be a whole number from ${quantity.min} to ${quantity.max}`;

export class OrderLineDto {
  @ResourceId(PRODUCT_ID, { description: 'The product.' })
  productId!: string;

  @Transform(({ value }) =>
    typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value,
  )
  @ValidateBy({
    name: 'quantity',
    validator: {
      validate: (v: unknown) => typeof v === 'bigint' && v >= quantity.min && v <= quantity.max,
      defaultMessage: () => QUANTITY_MESSAGE,
    },
  })
  @ApiProperty({ type: 'integer', minimum: quantity.min, maximum: quantity.max, example: 2 })
  quantity!: bigint;
}

/** POST /v1/orders */
export class PlaceOrderDto {
  @ResourceId('acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C', { description: 'The wallet that pays.' })
  accountId!: string;

  @IsArray({ message: 'must be an array of { productId, quantity }' })
  @ArrayMinSize(items.min, { message: `must hold ${items.min} to ${items.max} lines` })
  @ArrayMaxSize(items.max, { message: `must hold ${items.min} to ${items.max} lines` })
  @ValidateBy({
    name: 'distinctProducts',
    validator: {
      validate: (v: unknown) =>
        !Array.isArray(v) || new Set(v.map((l: { productId?: unknown }) => l?.productId)).size === v.length,
      defaultMessage: () => 'must name each product once',
    },
  })
  @ValidateNested({ each: true })
  @Type(() => OrderLineDto)
  @ApiProperty({ type: [OrderLineDto], minItems: items.min, maxItems: items.max })
  items!: OrderLineDto[];

  @Nullable()
  @IsString({ message: 'must be a string' })
  @MaxLength(254, { message: 'must be at most 254 characters' })
  @IsEmail({}, { message: 'must be an email address' })
  @ApiPropertyOptional({ type: 'string', format: 'email', nullable: true, example: 'ana@example.com' })
  customerEmail?: string | null;

  @Metadata()
  metadata?: Record<string, string | number | boolean | null>;
}

/** GET /v1/orders */
export class ListOrdersQuery extends PageQuery {
  @Text(1, 64, {
    required: false,
    description: 'Only this account’s orders.',
    example: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C',
  })
  accountId?: string;

  @OneOf(ORDER_STATUSES, { required: false })
  status?: (typeof ORDER_STATUSES)[number];
}

/** A path naming an order. Any text: an id that is no order's is a 404, not a 400. */
export class OrderParams {
  @IsString()
  @ApiProperty({ description: 'The order.', example: ORDER_ID })
  id!: string;
}

export class OrderLineView {
  @ApiProperty({ example: PRODUCT_ID })
  productId!: string;
  @ApiProperty({ example: 'LAMP-RED-01' })
  sku!: string;
  @ApiProperty({ example: 'Red desk lamp' })
  name!: string;
  @AmountOut('Units.', 2)
  quantity!: bigint;
  @AmountOut('The price when the order was placed.')
  unitPrice!: bigint;
  @AmountOut('quantity × unitPrice.', 5000)
  amount!: bigint;
}

export class FailureView {
  @ApiProperty({ example: 'account_frozen' })
  code!: string;
  @ApiProperty({ example: 'The account is frozen.' })
  message!: string;
}

/** An order paid from a wallet: stock reserved and a hold placed, then captured in the background. */
export class OrderView {
  @ApiProperty({ example: ORDER_ID })
  id!: string;
  @ApiProperty({ example: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C' })
  accountId!: string;
  @ApiProperty({
    enum: ORDER_STATUSES,
    description:
      '`reserved` until the worker captures it (`completed`) or it fails; `cancelled` by the client or when its reservation runs out.',
  })
  status!: string;
  @ApiProperty({ type: [OrderLineView] })
  items!: OrderLineView[];
  @AmountOut('The sum of the lines.', 5000)
  total!: bigint;
  @ApiProperty({ example: 'USD' })
  currency!: string;
  @ApiProperty({ example: 'hold_01JD3ZB2C3D4E5F6G7H8J9K0MN' })
  holdId!: string;
  @ApiProperty({ type: 'string', nullable: true, description: 'The capture, once completed.', example: null })
  transactionId!: string | null;
  @ApiProperty({ type: 'string', nullable: true, example: 'ana@example.com' })
  customerEmail!: string | null;
  @ApiProperty({ type: FailureView, nullable: true, example: null })
  failure!: FailureView | null;
  @FlatOut()
  metadata!: Record<string, unknown>;
  @InstantOut()
  createdAt!: string;
  @InstantOut(undefined, true)
  completedAt!: string | null;
}

export const ORDER_EXAMPLE = {
  id: ORDER_ID,
  accountId: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C',
  status: 'reserved',
  items: [
    {
      productId: PRODUCT_ID,
      sku: 'LAMP-RED-01',
      name: 'Red desk lamp',
      quantity: 2,
      unitPrice: 2500,
      amount: 5000,
    },
  ],
  total: 5000,
  currency: 'USD',
  holdId: 'hold_01JD3ZB2C3D4E5F6G7H8J9K0MN',
  transactionId: null,
  customerEmail: 'ana@example.com',
  failure: null,
  metadata: {},
  createdAt: '2026-11-21T12:00:00.000Z',
  completedAt: null,
};
