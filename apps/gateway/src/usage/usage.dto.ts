import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, ValidateBy } from 'class-validator';
import { MAX_EVENTS_PER_BATCH, METER_AGGREGATIONS } from '#domain';
import { JsonFloat } from '../http/json.js';
import { FieldsAsSent } from '../http/validation.js';
import {
  Amount,
  AmountOut,
  Currency,
  FlatOut,
  FlatRecord,
  Instant,
  InstantOut,
  MAX_FLAT_KEYS,
  OneOf,
  PageOf,
  Pattern,
  ResourceId,
} from '../http/fields.js';
import { PageQuery } from '../http/pagination.js';

/** How far ahead of the gateway's clock an event's timestamp may be (clock skew). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** A client's event id: 1-255 visible ASCII characters. */
const EVENT_ID = /^[\x21-\x7e]{1,255}$/;
const EVENT_TYPE = /^[A-Za-z0-9_.:-]{1,100}$/;
const PROPERTY_KEY = /^[A-Za-z0-9_.:-]{1,64}$/;
const ACC = 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C';

/** Whether `id` can be an event's id (a path parameter that cannot is no event at all). */
export const isEventId = (id: string) => EVENT_ID.test(id);

const EventType = (description: string, required = true) =>
  Pattern(EVENT_TYPE, 'must be 1-100 letters, digits, _ . : -', {
    description,
    example: 'api.call',
    required,
  });

/** Whether `type` can be an event type (a path parameter that cannot names no event type). */
export const isEventType = (type: string) => EVENT_TYPE.test(type);

/** One usage event as a client sends it. */
@FieldsAsSent()
export class UsageEventDto {
  @Pattern(EVENT_ID, 'must be 1-255 visible ASCII characters', {
    required: false,
    description:
      'Your id for the event, unique per tenant: sending it again is counted as a duplicate, never billed twice. ' +
      'Without one the server assigns an `evt_…` id (answered in `ids`) and the event is never a duplicate.',
    example: 'req-7f3a9c',
  })
  id?: string;

  @EventType('What happened; meters price events by type.')
  type!: string;

  @ResourceId(ACC, {
    required: false,
    nullable: true,
    description: 'The account billed for it (by the meters of its type); none: recorded, not billed.',
  })
  accountId?: string | null;

  @Instant({
    required: false,
    description: 'When it happened (at most 5 minutes ahead of the gateway clock); when received if absent.',
    example: '2026-11-21T11:59:58Z',
  })
  @ValidateBy({
    name: 'notInFuture',
    validator: {
      validate: (value) => typeof value !== 'string' || Date.parse(value) <= Date.now() + MAX_CLOCK_SKEW_MS,
      defaultMessage: () => 'must not be in the future',
    },
  })
  timestamp?: string;

  @FlatRecord({
    keyLength: 64,
    valueProblem: (v) =>
      v === null ||
      typeof v === 'boolean' ||
      typeof v === 'bigint' ||
      v instanceof JsonFloat ||
      (typeof v === 'number' && Number.isInteger(v))
        ? null
        : typeof v === 'string'
          ? v.length > 1000
            ? 'must be at most 1000 characters'
            : null
          : 'must be a string, a number, a boolean or null',
    description:
      'Flat: at most 50 keys; each value a string (≤ 1000 characters), a number (integers are kept exactly, at any size; a float stays a float, 1.0 included), a boolean or null.',
    example: { tokens: 1200, model: 'small' },
    schema: {
      type: 'object',
      maxProperties: MAX_FLAT_KEYS,
      propertyNames: { pattern: PROPERTY_KEY.source },
      additionalProperties: { type: ['string', 'number', 'boolean', 'null'], maxLength: 1000 },
    } as object,
  })
  properties?: Record<string, unknown>;
}

/** Several events in one request: each checked, and refused, on its own. */
@FieldsAsSent()
export class UsageBatchDto {
  @IsArray({ message: 'must be an array' })
  @ArrayMinSize(1, { message: 'must hold at least 1 event' })
  @ArrayMaxSize(MAX_EVENTS_PER_BATCH, { message: `must hold at most ${MAX_EVENTS_PER_BATCH} events` })
  @ApiProperty({ type: [UsageEventDto], minItems: 1, maxItems: MAX_EVENTS_PER_BATCH })
  events!: unknown[];
}

/** POST /v1/meters */
export class CreateMeterDto {
  @EventType('The type of event the meter prices.')
  eventType!: string;

  @OneOf(METER_AGGREGATIONS, {
    description: "`count`: each event is one unit; `sum`: the event's `property` is the quantity.",
  })
  aggregation!: (typeof METER_AGGREGATIONS)[number];

  @ValidateBy({
    name: 'meterProperty',
    validator: {
      validate: (value, args) =>
        meterPropertyProblem(value, (args?.object as CreateMeterDto).aggregation) === null,
      defaultMessage: (args) =>
        meterPropertyProblem(args?.value, (args?.object as CreateMeterDto).aggregation)!,
    },
  })
  @ApiPropertyOptional({
    type: 'string',
    nullable: true,
    pattern: '^[A-Za-z0-9_.:-]{1,64}$',
    description: 'The property a `sum` meter adds up (required for `sum`, refused for `count`).',
    example: 'tokens',
  })
  property?: string | null;

  @Amount({ description: 'Minor units charged per unit.', example: 2 })
  unitPrice!: bigint;

  @Currency()
  currency!: string;
}

function meterPropertyProblem(value: unknown, aggregation: unknown): string | null {
  const given = value !== undefined && value !== null;
  if (given && (typeof value !== 'string' || !PROPERTY_KEY.test(value))) return 'must be a property key';
  if (aggregation === 'sum' && !value) return 'a sum meter needs the property it sums';
  if (aggregation === 'count' && given) return 'a count meter takes no property';
  return null;
}

/** GET /v1/meters */
export class ListMetersQuery extends PageQuery {}

/** GET /v1/usage */
export class UsageQuery {
  @ResourceId(ACC, { required: false, description: "Only this account's usage." })
  accountId?: string;

  @Instant({ required: false, description: 'Start of the range (inclusive); 30 days before `to` if absent.' })
  from?: string;

  @Instant({ required: false, description: 'End of the range (exclusive); now if absent.' })
  to?: string;

  @OneOf(['day', 'meter'], { required: false, description: 'Buckets: UTC days (the default) or meters.' })
  groupBy?: 'day' | 'meter';
}

/** A path naming an event by the id its client gave it. */
export class EventParams {
  @IsString()
  @ApiProperty({ description: 'The id the event was sent with.', example: 'req-7f3a9c' })
  id!: string;
}

export const METER_ID = 'mtr_01JD3ZC7R8S9T0V1W2X3Y4Z5A6';

/** The price of an event type. */
export class MeterView {
  @ApiProperty({ example: METER_ID })
  id!: string;

  @ApiProperty({ example: 'api.call' })
  eventType!: string;

  @ApiProperty({ enum: METER_AGGREGATIONS, example: 'sum' })
  aggregation!: string;

  @ApiProperty({ type: 'string', nullable: true, example: 'tokens' })
  property!: string | null;

  @AmountOut('Minor units per unit of quantity.', 2)
  unitPrice!: bigint;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @InstantOut()
  createdAt!: string;
}

export class MeterPage extends PageOf(MeterView, 'MeterPage') {}

/** A code and what it means. */
export class CodeMessageView {
  @ApiProperty({ example: 'insufficient_funds' })
  code!: string;

  @ApiProperty()
  message!: string;
}

/** What a meter made of an event. */
export class BillingView {
  @ApiProperty({ enum: ['charged', 'unbilled'] })
  status!: string;

  @ApiProperty({ example: METER_ID })
  meterId!: string;

  @AmountOut('What the meter measured.', 1200)
  quantity!: bigint;

  @AmountOut('quantity × unitPrice, in minor units.', 2400)
  amount!: bigint;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'The `charge` transaction; null when unbilled.',
  })
  transactionId!: string | null;

  @ApiProperty({
    type: CodeMessageView,
    nullable: true,
    description:
      'Why the event went unbilled: insufficient_funds, currency_mismatch, account_frozen or account_not_found.',
  })
  failure!: CodeMessageView | null;
}

/** A usage event as received, and what processing made of it. */
export class UsageEventView {
  @ApiProperty({ example: 'req-7f3a9c' })
  id!: string;

  @ApiProperty({ example: 'api.call' })
  type!: string;

  @ApiProperty({ type: 'string', nullable: true, example: ACC })
  accountId!: string | null;

  @InstantOut('When it happened.')
  timestamp!: string;

  @FlatOut('As sent: integers exact at any size, floats as written.', { tokens: 1200, model: 'small' })
  properties!: Record<string, unknown>;

  @ApiProperty({
    enum: ['received', 'processed', 'failed'],
    description:
      '`received`: stored, not yet processed. `failed`: broke a business rule (see `failure`); never retried.',
  })
  status!: string;

  @InstantOut()
  receivedAt!: string;

  @InstantOut(undefined, true)
  processedAt!: string | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: 'standard',
    description:
      '`high_value` when its `amount` property (else its price) reaches the high-value threshold; null until processed.',
  })
  category!: string | null;

  @ApiProperty({ type: BillingView, nullable: true, description: 'Null unless a meter priced the event.' })
  billing!: BillingView | null;

  @ApiProperty({
    type: CodeMessageView,
    nullable: true,
    description:
      'Why processing refused the event (status `failed`): invalid_purchase, invalid_quantity, account_required or amount_too_large.',
  })
  failure!: CodeMessageView | null;
}

/** An event of a request that was not stored. */
export class RejectionView {
  @ApiProperty({ type: 'integer', description: 'Position in `events` (0 for a single event).' })
  index!: number;

  @ApiProperty({ enum: ['validation_error', 'account_not_found'] })
  code!: string;

  @ApiProperty({ example: 'type: must be 1-100 letters, digits, _ . : -' })
  message!: string;
}

/** What POST /v1/events did with the events sent. */
export class UsageIngestResultView {
  @ApiProperty({
    type: 'array',
    items: { type: 'string', nullable: true },
    description:
      "Each event's id, in the order sent (index by index): the id it was sent with, or the one the server assigned; null for a rejected event.",
    example: ['req-7f3a9c', null],
  })
  ids!: (string | null)[];

  @ApiProperty({ type: 'integer', description: 'New events stored, to be processed.', example: 1 })
  accepted!: number;

  @ApiProperty({
    type: 'integer',
    description: 'Events whose id was already sent (before, or earlier in this batch): not processed again.',
    example: 0,
  })
  duplicates!: number;

  @ApiProperty({ type: [RejectionView] })
  rejected!: RejectionView[];
}

abstract class UsageTotals {
  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'The currency of the amounts; null only if a day mixes meters of several currencies.',
  })
  currency!: string | null;

  @ApiProperty({ type: 'integer', description: 'Metered events in the bucket.' })
  events!: number;

  @AmountOut('Sum of the quantities the meters measured.', 1500)
  quantity!: bigint;

  @AmountOut("Minor units charged: exactly the ledger's usage charges for these events.", 3000)
  amount!: bigint;

  @ApiProperty({
    type: 'integer',
    description: 'Events priced but not charged (insufficient funds, frozen or unknown account…).',
  })
  unbilledEvents!: number;
}

export class UsageByDayView extends UsageTotals {
  @ApiProperty({ type: 'string', format: 'date', example: '2026-11-21', description: 'UTC day.' })
  day!: string;
}

export class UsageByMeterView extends UsageTotals {
  @ApiProperty({ example: METER_ID })
  meterId!: string;

  @ApiProperty({ example: 'api.call' })
  eventType!: string;
}

/** Usage totals over a range, by day or by meter. */
@ApiExtraModels(UsageByDayView, UsageByMeterView)
export class UsageReportView {
  @ApiProperty({ type: 'string', nullable: true, example: ACC })
  accountId!: string | null;

  @InstantOut('Start of the range (inclusive).')
  from!: string;

  @InstantOut('End of the range (exclusive).')
  to!: string;

  @ApiProperty({ enum: ['day', 'meter'] })
  groupBy!: string;

  @ApiProperty({
    type: 'array',
    items: { oneOf: [{ $ref: getSchemaPath(UsageByDayView) }, { $ref: getSchemaPath(UsageByMeterView) }] },
  })
  data!: (UsageByDayView | UsageByMeterView)[];
}

export const METER_EXAMPLE = {
  id: METER_ID,
  eventType: 'api.call',
  aggregation: 'sum',
  property: 'tokens',
  unitPrice: 2,
  currency: 'USD',
  createdAt: '2026-11-21T12:00:00.000Z',
};

export const USAGE_EVENT_EXAMPLE = {
  id: 'req-7f3a9c',
  type: 'api.call',
  accountId: ACC,
  timestamp: '2026-11-21T11:59:58.000Z',
  properties: { tokens: 1200, model: 'small' },
  status: 'processed',
  receivedAt: '2026-11-21T12:00:00.000Z',
  processedAt: '2026-11-21T12:00:00.080Z',
  category: 'standard',
  billing: {
    status: 'charged',
    meterId: METER_ID,
    quantity: 1200,
    amount: 2400,
    currency: 'USD',
    transactionId: 'txn_01JD3ZD4E5F6G7H8J9K0M1N2P3',
    failure: null,
  },
  failure: null,
};

/** `?status=`: `pending` is an event stored and not yet processed (`received` in its view). */
export const EVENT_LIST_STATUSES = ['pending', 'processed', 'failed'] as const;

/** GET /v1/events */
export class ListEventsQuery extends PageQuery {
  @EventType('Only events of this type.', false)
  type?: string;

  @ResourceId(ACC, { required: false, description: 'Only events billed (or to be billed) to this account.' })
  accountId?: string;

  @OneOf(EVENT_LIST_STATUSES, {
    required: false,
    description: '`pending`: stored, not yet processed (status `received`); `processed`; `failed`.',
  })
  status?: (typeof EVENT_LIST_STATUSES)[number];

  @Instant({ required: false, description: 'Received at or after this instant.' })
  from?: string;

  @Instant({ required: false, description: 'Received before this instant.' })
  to?: string;
}

export const EVENT_STATS_GROUPS = ['type', 'hour', 'day'] as const;

/** GET /v1/events/stats */
export class EventStatsQuery {
  @Instant({
    required: false,
    description: 'Start of the range of receipt (inclusive); 24 hours before `to` if absent.',
  })
  from?: string;

  @Instant({ required: false, description: 'End of the range (exclusive); now if absent.' })
  to?: string;

  @OneOf(EVENT_STATS_GROUPS, {
    required: false,
    description: 'Buckets: event type (the default), UTC hour or UTC day of receipt.',
  })
  groupBy?: (typeof EVENT_STATS_GROUPS)[number];
}

export class UsageEventPage extends PageOf(UsageEventView, 'UsageEventPage') {}

/** How many events failed with one code. */
export class FailureReasonCountView {
  @ApiProperty({ example: 'schema_violation' })
  code!: string;

  @ApiProperty({ type: 'integer', example: 3 })
  count!: number;
}

export class EventCountsView {
  @ApiProperty({ type: 'integer', description: 'Events stored (accepted, not duplicates).', example: 120 })
  received!: number;

  @ApiProperty({ type: 'integer', description: 'Of those, not processed yet.', example: 2 })
  pending!: number;

  @ApiProperty({ type: 'integer', example: 115 })
  processed!: number;

  @ApiProperty({ type: 'integer', example: 3 })
  failed!: number;

  @ApiProperty({
    type: [FailureReasonCountView],
    description: 'The failed events by code, most frequent first.',
  })
  failureReasons!: FailureReasonCountView[];
}

export class EventStatsBucketView extends EventCountsView {
  @ApiProperty({
    description: 'The event type; the UTC hour (`2026-11-21T12:00:00Z`); or the UTC day (`2026-11-21`).',
    example: 'api.call',
  })
  key!: string;
}

/** Counts of events received over a range, by type, hour or day. */
export class EventStatsView {
  @InstantOut('Start of the range (inclusive).')
  from!: string;

  @InstantOut('End of the range (exclusive).')
  to!: string;

  @ApiProperty({ enum: EVENT_STATS_GROUPS })
  groupBy!: string;

  @ApiProperty({ type: EventCountsView, description: 'The whole range.' })
  totals!: EventCountsView;

  @ApiProperty({
    type: [EventStatsBucketView],
    description: 'One bucket per key that has events, in key order.',
  })
  data!: EventStatsBucketView[];
}
