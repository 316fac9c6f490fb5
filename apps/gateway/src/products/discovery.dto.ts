import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { Optional } from '../http/fields.js';
import { PRODUCT_EXAMPLE, ProductView } from './products.dto.js';

export const DISCOVERY_MAX = 50;
const LIMIT_MESSAGE = `must be a whole number from 1 to ${DISCOVERY_MAX}`;

/** `?limit=` of also-bought and recommendations. */
export class DiscoveryQuery {
  @Optional()
  @Transform(({ value }) => (typeof value === 'string' && /^\d{1,3}$/.test(value) ? Number(value) : value))
  @IsInt({ message: LIMIT_MESSAGE })
  @Min(1, { message: LIMIT_MESSAGE })
  @Max(DISCOVERY_MAX, { message: LIMIT_MESSAGE })
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: DISCOVERY_MAX, default: 10 })
  limit?: number;
}

export class AlsoBoughtItem {
  @ApiProperty({ type: ProductView })
  product!: ProductView;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Completed orders that held both.', example: 12 })
  count!: number;
}

export class AlsoBoughtList {
  @ApiProperty({ type: [AlsoBoughtItem] })
  data!: AlsoBoughtItem[];
}

export class RecommendationItem {
  @ApiProperty({ type: ProductView })
  product!: ProductView;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    description: 'Summed co-occurrence with the products the account has bought.',
    example: 7,
  })
  strength!: number;
}

export class RecommendationList {
  @ApiProperty({ type: [RecommendationItem] })
  data!: RecommendationItem[];
}

export const ALSO_BOUGHT_EXAMPLE = { data: [{ product: PRODUCT_EXAMPLE, count: 12 }] };
export const RECOMMENDATIONS_EXAMPLE = { data: [{ product: PRODUCT_EXAMPLE, strength: 7 }] };
