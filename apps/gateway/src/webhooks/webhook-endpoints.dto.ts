import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsString } from 'class-validator';
import { WEBHOOK_EVENT_TYPES } from '#domain';
import { Description, Instant, InstantOut, OneOf, Optional, PageOf, Text } from '../http/fields.js';
import { PageQuery } from '../http/pagination.js';

export const ENDPOINT_ID = 'whe_01JD3ZE5F6G7H8J9K0M1N2P3Q4';
export const DELIVERY_ID = 'dlv_01JD3ZF6G7H8J9K0M1N2P3Q4R5';

const URL_DOC = {
  description:
    'Where events are POSTed: https (http outside production), no credentials, a host that resolves to public addresses unless allowed by WEBHOOK_ALLOWED_HOSTS.',
  example: 'https://hooks.example.com/tally',
};

const EventTypes = () =>
  applyDecorators(
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
  );

/** POST /v1/webhook-endpoints */
export class CreateEndpointDto {
  @Text(1, 2000, URL_DOC)
  url!: string;

  @EventTypes()
  eventTypes?: (typeof WEBHOOK_EVENT_TYPES)[number][];

  @Description({ nullable: true, example: 'Order service' })
  description?: string | null;
}

/** PATCH /v1/webhook-endpoints/{id}: what is sent changes; what is not stays. */
export class UpdateEndpointDto {
  @Text(1, 2000, { ...URL_DOC, required: false })
  url?: string;

  @EventTypes()
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

const SECRET = 'whsec_Yeu6+LP7aIELtzcYU2lPvolIR/trbeeT';

/** A webhook endpoint, without its secret. */
export class WebhookEndpointView {
  @ApiProperty({ example: ENDPOINT_ID })
  id!: string;

  @ApiProperty({ example: 'https://example.com/hooks/tally' })
  url!: string;

  @ApiProperty({ type: 'string', nullable: true, example: 'Production receiver' })
  description!: string | null;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
    description: 'Empty: every event type.',
    example: ['transaction.succeeded', 'transaction.failed'],
  })
  eventTypes!: string[];

  @ApiProperty({ enum: ['enabled', 'disabled'], description: 'Only an `enabled` endpoint receives events.' })
  status!: string;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: 'the receiver answered 410 Gone',
    description:
      'Why it is disabled: by the tenant, the receiver answered 410 Gone, or failing without a success for 5 days. Null while enabled.',
  })
  disabledReason!: string | null;

  @InstantOut()
  createdAt!: string;

  @InstantOut()
  updatedAt!: string;
}

/** A webhook endpoint as created or rotated: with its secret, shown this once. */
export class WebhookEndpointWithSecretView extends WebhookEndpointView {
  @ApiProperty({
    pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$',
    example: SECRET,
    description:
      'The signing secret: `whsec_` + base64 of the HMAC key. Shown only when the endpoint is created and when its secret is rotated.',
  })
  secret!: string;
}

/** One try at delivering an event. */
export class WebhookAttemptView {
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    description: 'Counts from 1; restarts when the delivery is sent again.',
  })
  attempt!: number;

  @InstantOut()
  attemptedAt!: string;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'The HTTP status answered; null when there was no answer.',
  })
  statusCode!: number | null;

  @ApiProperty({ type: 'integer', example: 84 })
  latencyMs!: number;

  @ApiProperty({ type: 'string', nullable: true, description: 'The first 1 KiB of the response body.' })
  responseSnippet!: string | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: 'HTTP 503',
    description:
      'Why the attempt failed (`HTTP <status>`, a timeout, a connection error, a refused address); null on success.',
  })
  error!: string | null;
}

/** One event sent to one endpoint, with every attempt. */
export class WebhookDeliveryView {
  @ApiProperty({ example: DELIVERY_ID })
  id!: string;

  @ApiProperty({
    example: 'evt_01JD3ZF0A1B2C3D4E5F6G7H8J9',
    description: 'The event delivered; also its `webhook-id`.',
  })
  eventId!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES })
  eventType!: string;

  @ApiProperty({
    enum: ['pending', 'succeeded', 'failed'],
    description:
      '`pending`: not yet delivered, being retried. `failed`: every attempt of the schedule failed (or the receiver answered 410).',
  })
  status!: string;

  @ApiProperty({ type: [WebhookAttemptView] })
  attempts!: WebhookAttemptView[];

  @InstantOut('When it is tried next, while `pending`.', true)
  nextAttemptAt!: string | null;

  @InstantOut()
  createdAt!: string;

  @InstantOut(undefined, true)
  completedAt!: string | null;
}

export class WebhookEndpointPage extends PageOf(WebhookEndpointView, 'WebhookEndpointPage') {}
export class WebhookDeliveryPage extends PageOf(WebhookDeliveryView, 'WebhookDeliveryPage') {}

/** A delivery sent again. */
export class RetriedDeliveryView {
  @ApiProperty({ example: DELIVERY_ID })
  id!: string;

  @ApiProperty({ enum: ['pending'] })
  status!: 'pending';
}

/** How many failed deliveries are sent again. */
export class RecoveredView {
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'How many deliveries will be sent again.',
    example: 12,
  })
  recovered!: number;
}

/** The body of a webhook delivery: what Tally POSTs to an endpoint. */
export class WebhookEventView {
  @ApiProperty({
    example: 'evt_01JD3ZF0A1B2C3D4E5F6G7H8J9',
    description: 'The event id; the same as the `webhook-id` header.',
  })
  id!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES })
  type!: string;

  @InstantOut()
  createdAt!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'transaction.*: the Transaction. hold.*: the Hold. account.balance_low: `{ accountId, currency, available, threshold }`. ' +
      'usage.charged / usage.charge_failed: the usage event and its price, with `transactionId` or `failure`.',
  })
  data!: object;
}

export const SECRET_EXAMPLE = SECRET;
export const SECRET_EXAMPLE_2 = 'whsec_gV9PMXzaxTmph89u5bP8MZ12qSwH31dQ';

export const ENDPOINT_EXAMPLE = {
  id: ENDPOINT_ID,
  url: 'https://example.com/hooks/tally',
  description: 'Production receiver',
  eventTypes: ['transaction.succeeded', 'transaction.failed'],
  status: 'enabled',
  disabledReason: null,
  createdAt: '2026-11-21T12:00:00.000Z',
  updatedAt: '2026-11-21T12:00:00.000Z',
};

export const DELIVERY_EXAMPLE = {
  id: DELIVERY_ID,
  eventId: 'evt_01JD3ZF0A1B2C3D4E5F6G7H8J9',
  eventType: 'transaction.succeeded',
  status: 'pending',
  attempts: [
    {
      attempt: 1,
      attemptedAt: '2026-11-21T12:00:00.180Z',
      statusCode: 503,
      latencyMs: 84,
      responseSnippet: 'upstream unavailable',
      error: 'HTTP 503',
    },
  ],
  nextAttemptAt: '2026-11-21T12:00:05.180Z',
  createdAt: '2026-11-21T12:00:00.100Z',
  completedAt: null,
};
