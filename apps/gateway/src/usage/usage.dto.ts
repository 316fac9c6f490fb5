import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, ValidateBy } from 'class-validator';
import { MAX_EVENTS_PER_BATCH, METER_AGGREGATIONS } from '#domain';
import { JsonFloat } from '../http/json.js';
import {
  Amount,
  Currency,
  FlatRecord,
  Instant,
  MAX_FLAT_KEYS,
  OneOf,
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

const EventType = (description: string) =>
  Pattern(EVENT_TYPE, 'must be 1-100 letters, digits, _ . : -', { description, example: 'api.call' });

/** One usage event as a client sends it. */
export class UsageEventDto {
  @Pattern(EVENT_ID, 'must be 1-255 visible ASCII characters', {
    description:
      'Your id for the event, unique per tenant: sending it again is counted as a duplicate, never billed twice.',
    example: 'req-7f3a9c',
  })
  id!: string;

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
