import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Limit, OptionalInstant, OptionalOneOf, OptionalText, Text } from '../http/fields.js';

const TENANT_ID = 'ten_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
export const EVENT_STATUSES = ['pending', 'processed', 'failed'] as const;
export const EVENT_GROUPS = ['type', 'hour', 'day'] as const;

/** GET /admin/api/events: one tenant's events, as its GET /v1/events lists them. */
export class AdminEventsQuery {
  @Text(1, 64, { example: TENANT_ID })
  tenantId!: string;

  @OptionalText(100, { example: 'api.call' })
  type?: string;

  @OptionalText(64)
  accountId?: string;

  @OptionalOneOf(EVENT_STATUSES, '`pending`: stored, not processed yet.')
  status?: (typeof EVENT_STATUSES)[number];

  @OptionalInstant('Received at or after.')
  from?: string;

  @OptionalInstant('Received before.')
  to?: string;

  @OptionalText(200, { description: 'The `nextCursor` of the previous page.' })
  cursor?: string;

  @Limit(50)
  limit?: number;
}

/** GET /admin/api/events/stats */
export class AdminEventStatsQuery {
  @Text(1, 64, { example: TENANT_ID })
  tenantId!: string;

  @OptionalInstant('Start of the range of receipt (inclusive); 24 hours before `to` by default.')
  from?: string;

  @OptionalInstant('End of the range (exclusive); now by default.')
  to?: string;

  @OptionalOneOf(EVENT_GROUPS, 'Buckets: event type (default), UTC hour or UTC day of receipt.')
  groupBy?: (typeof EVENT_GROUPS)[number];
}

export class EventBillingView {
  @ApiProperty({ example: 'charged' })
  status!: string;

  @ApiProperty({ type: 'string', nullable: true })
  meterId!: string | null;

  @ApiProperty({ type: 'string', nullable: true, pattern: '^\\d+$' })
  quantity!: string | null;

  @ApiProperty({ type: 'string', nullable: true, pattern: '^\\d+$', description: 'Minor units.' })
  amount!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'USD' })
  currency!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  unbilledCode!: string | null;
}

export class EventFailureView {
  @ApiProperty({ example: 'schema_violation' })
  code!: string;

  @ApiProperty()
  message!: string;
}

export class AdminEventView {
  @ApiProperty({ example: 'req-7f3a9c' })
  id!: string;

  @ApiProperty({ example: 'api.call' })
  type!: string;

  @ApiProperty({ type: 'string', nullable: true })
  accountId!: string | null;

  @ApiProperty({ enum: ['received', 'processed', 'failed'] })
  status!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  occurredAt!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  receivedAt!: string;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  processedAt!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  properties!: unknown;

  @ApiPropertyOptional({ type: EventBillingView, nullable: true })
  billing!: EventBillingView | null;

  @ApiPropertyOptional({ type: EventFailureView, nullable: true })
  failure!: EventFailureView | null;
}

export class AdminEventPage {
  @ApiProperty({ type: [AdminEventView] })
  data!: AdminEventView[];

  @ApiProperty({ type: 'string', nullable: true, description: 'Pass as `cursor` for the next page.' })
  nextCursor!: string | null;
}

export class FailureCountView {
  @ApiProperty({ example: 'schema_violation' })
  code!: string;

  @ApiProperty({ type: 'integer' })
  count!: number;
}

export class EventCountsView {
  @ApiProperty({ type: 'integer' })
  received!: number;

  @ApiProperty({ type: 'integer' })
  pending!: number;

  @ApiProperty({ type: 'integer' })
  processed!: number;

  @ApiProperty({ type: 'integer' })
  failed!: number;

  @ApiProperty({ type: [FailureCountView], description: 'The failed events by code, most frequent first.' })
  failureReasons!: FailureCountView[];
}

export class EventBucketView extends EventCountsView {
  @ApiProperty({ description: 'Type, UTC hour (2026-11-21T12:00:00Z) or UTC day (2026-11-21).' })
  key!: string;
}

export class AdminEventStatsView {
  @ApiProperty({ type: 'string', format: 'date-time' })
  from!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  to!: string;

  @ApiProperty({ enum: EVENT_GROUPS })
  groupBy!: string;

  @ApiProperty({ type: EventCountsView })
  totals!: EventCountsView;

  @ApiProperty({ type: [EventBucketView] })
  data!: EventBucketView[];
}
