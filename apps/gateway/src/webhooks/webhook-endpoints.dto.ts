import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsString } from 'class-validator';
import { WEBHOOK_EVENT_TYPES } from '#domain';
import { Description, Instant, OneOf, Optional, Text } from '../http/fields.js';
import { PageQuery } from '../http/pagination.js';

export const ENDPOINT_ID = 'whe_01JD3ZE5F6G7H8J9K0M1N2P3Q4';
export const DELIVERY_ID = 'dlv_01JD3ZF6G7H8J9K0M1N2P3Q4R5';

const URL_DOC = {
  description:
    'Where events are POSTed: https (http outside production), no credentials, a host that resolves to public addresses unless allowed by WEBHOOK_ALLOWED_HOSTS.',
  example: 'https://hooks.example.com/tally',
};

const EventTypes = () => [
  Optional(),
  IsArray({ message: 'must be an array' }),
  ArrayMaxSize(WEBHOOK_EVENT_TYPES.length, {
    message: `must hold at most ${WEBHOOK_EVENT_TYPES.length} types`,
  }),
  IsIn(WEBHOOK_EVENT_TYPES, {
    each: true,
    message: `each must be one of: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
  }),
  ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
    maxItems: WEBHOOK_EVENT_TYPES.length,
    description: 'The events sent to it; every type if empty or absent.',
    example: ['transaction.succeeded', 'transaction.failed'],
  }),
];

function apply(decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((decorator) => decorator(target, key));
}

/** POST /v1/webhook-endpoints */
export class CreateEndpointDto {
  @Text(1, 2000, URL_DOC)
  url!: string;

  @apply(EventTypes())
  eventTypes?: (typeof WEBHOOK_EVENT_TYPES)[number][];

  @Description({ nullable: true, example: 'Order service' })
  description?: string | null;
}

/** PATCH /v1/webhook-endpoints/{id}: what is sent changes; what is not stays. */
export class UpdateEndpointDto {
  @Text(1, 2000, { ...URL_DOC, required: false })
  url?: string;

  @apply(EventTypes())
  eventTypes?: (typeof WEBHOOK_EVENT_TYPES)[number][];

  @Description({ nullable: true, example: 'Order service' })
  description?: string | null;

  @OneOf(['enabled', 'disabled'], {
    required: false,
    description: 'Enable a disabled endpoint again (its `disabledReason` is cleared), or pause it.',
  })
  status?: 'enabled' | 'disabled';
}

/** POST /v1/webhook-endpoints/{id}/recover */
export class RecoverDto {
  @Instant({ description: 'Deliveries that failed since this instant are sent again.' })
  since!: string;
}

/** GET /v1/webhook-endpoints and its deliveries. */
export class ListEndpointsQuery extends PageQuery {}

/** A path naming a webhook endpoint. Any text: an id that is no endpoint's is a 404. */
export class EndpointParams {
  @IsString()
  @ApiProperty({ description: 'The webhook endpoint.', example: ENDPOINT_ID })
  id!: string;
}

/** A path naming one delivery to an endpoint. */
export class DeliveryParams extends EndpointParams {
  @IsString()
  @ApiProperty({ description: 'The delivery.', example: DELIVERY_ID })
  deliveryId!: string;
}
