import { ApiProperty } from '@nestjs/swagger';
import { Before, Limit, NextBefore, OptionalOneOf, OptionalText, PathId } from '../http/fields.js';

const ENDPOINT_ID = 'whe_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
const DELIVERY_ID = 'dlv_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;

export class DeliveryParams {
  @PathId(DELIVERY_ID)
  id!: string;
}

export class EndpointListQuery {
  @OptionalText(64)
  tenantId?: string;

  @Before()
  before?: string;

  @Limit(100)
  limit?: number;
}

export class DeliveryListQuery {
  @OptionalText(64)
  tenantId?: string;

  @OptionalText(64, { example: ENDPOINT_ID })
  endpointId?: string;

  @OptionalOneOf(DELIVERY_STATUSES)
  status?: (typeof DELIVERY_STATUSES)[number];

  @Before()
  before?: string;

  @Limit(100)
  limit?: number;
}

export class EndpointView {
  @ApiProperty({ example: ENDPOINT_ID })
  id!: string;

  @ApiProperty()
  tenantId!: string;

  @ApiProperty({ example: 'https://hooks.example.com/tally' })
  url!: string;

  @ApiProperty({ type: [String], description: 'Empty: every event type.' })
  eventTypes!: string[];

  @ApiProperty({ enum: ['enabled', 'disabled'] })
  status!: string;

  @ApiProperty({ type: 'string', nullable: true })
  disabledReason!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  failingSince!: Date | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ type: 'integer', description: 'Deliveries that failed for good.' })
  failed!: number;

  @ApiProperty({ type: 'integer', description: 'Deliveries still to be made.' })
  pending!: number;
}

export class EndpointList {
  @ApiProperty({ type: [EndpointView] })
  data!: EndpointView[];

  @NextBefore()
  nextBefore!: string | null;
}

export class DeliveryView {
  @ApiProperty({ example: DELIVERY_ID })
  id!: string;

  @ApiProperty()
  tenantId!: string;

  @ApiProperty({ example: ENDPOINT_ID })
  endpointId!: string;

  @ApiProperty({ example: 'https://hooks.example.com/tally' })
  url!: string;

  @ApiProperty()
  eventId!: string;

  @ApiProperty({ example: 'transaction.succeeded' })
  eventType!: string;

  @ApiProperty({ enum: DELIVERY_STATUSES })
  status!: string;

  @ApiProperty({ type: 'integer' })
  attempts!: number;

  @ApiProperty({ type: 'integer', nullable: true, description: 'The HTTP status of the last attempt.' })
  lastStatus!: number | null;

  @ApiProperty({ type: 'string', nullable: true })
  lastError!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  nextAttemptAt!: Date;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  completedAt!: Date | null;
}

export class DeliveryList {
  @ApiProperty({ type: [DeliveryView] })
  data!: DeliveryView[];

  @NextBefore()
  nextBefore!: string | null;
}

export class RedeliveredView {
  @ApiProperty({ example: DELIVERY_ID })
  id!: string;

  @ApiProperty({ enum: ['pending'] })
  status!: 'pending';
}
