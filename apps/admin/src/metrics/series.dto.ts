import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ValidationError } from '#http';
import { OptionalInstant, OptionalText, Text } from '../http/fields.js';

const TENANT_ID = 'ten_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
/** The most buckets one answer has (a chart is a few hundred pixels wide). */
export const MAX_BUCKETS = 1500;
/** The widest window. */
export const MAX_WINDOW_DAYS = 93;
/** Buckets a window is cut into when `step` is not given. */
const DEFAULT_BUCKETS = 120;

/** `?step=`: seconds per bucket, written as digits. */
const Step = () =>
  applyDecorators(
    IsOptional(),
    Transform(({ value }) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value)),
    IsInt({ message: 'step must be a whole number of seconds' }),
    Min(1),
    Max(86_400),
    ApiPropertyOptional({
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      description: `Seconds per bucket; by default the window cut into ${DEFAULT_BUCKETS} (at least 1 s).`,
    }),
  );

/** A window of time cut into buckets. */
export class WindowQuery {
  @OptionalInstant('Start of the window (inclusive); an hour before `to` by default.')
  from?: string;

  @OptionalInstant('End of the window (exclusive); now by default.')
  to?: string;

  @Step()
  step?: number;
}

export class SeriesQuery extends WindowQuery {
  @OptionalText(64, { example: TENANT_ID, description: 'Only this tenant (throughput and latency).' })
  tenantId?: string;
}

export class UsageSeriesQuery extends WindowQuery {
  @Text(1, 64, { example: TENANT_ID })
  tenantId!: string;

  @OptionalText(64, { description: 'Only the usage billed to this account.' })
  accountId?: string;

  @OptionalText(64, { description: 'Only this meter.' })
  meterId?: string;
}

/**
 * The window a query names, checked: `from` before `to`, at most MAX_WINDOW_DAYS wide and
 * MAX_BUCKETS buckets. The last bucket may end after `to`: it counts only what happened before.
 */
export function windowOf(q: WindowQuery, now = new Date()) {
  const to = q.to ? new Date(q.to) : now;
  // Buckets start on whole seconds: `from` is taken to its second.
  const asked = q.from ? new Date(q.from) : new Date(to.getTime() - 3_600_000);
  const from = new Date(Math.floor(asked.getTime() / 1000) * 1000);
  const range = (to.getTime() - from.getTime()) / 1000;
  if (range <= 0) throw new ValidationError([{ field: 'from', message: 'must be before to' }]);
  if (range > MAX_WINDOW_DAYS * 86_400) {
    throw new ValidationError([
      { field: 'from', message: `the window may span at most ${MAX_WINDOW_DAYS} days` },
    ]);
  }
  const step = q.step ?? Math.max(1, Math.ceil(range / DEFAULT_BUCKETS));
  const buckets = Math.ceil(range / step);
  if (buckets > MAX_BUCKETS) {
    throw new ValidationError([
      { field: 'step', message: `the window would have ${buckets} buckets; at most ${MAX_BUCKETS}` },
    ]);
  }
  return { from, to, step, buckets };
}

export class SeriesLineView {
  @ApiProperty({ example: 'deposit' })
  name!: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'number', nullable: true },
    description: 'One value per bucket, in the order of `times`; null: nothing measured there.',
  })
  values!: (number | null)[];
}

export class SeriesView {
  @ApiProperty({ type: 'string', format: 'date-time' })
  from!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  to!: string;

  @ApiProperty({ type: 'integer', description: 'Seconds per bucket.', example: 60 })
  step!: number;

  @ApiProperty({
    type: 'array',
    items: { type: 'integer' },
    description: "Each bucket's start, in Unix seconds.",
    example: [1764583200, 1764583260],
  })
  times!: number[];

  @ApiProperty({ type: [SeriesLineView], description: 'One line per name, by name.' })
  series!: SeriesLineView[];
}

const DIGITS = { type: 'array', items: { type: 'string', pattern: '^\\d+$' } } as const;

export class MeterUsageSeriesView {
  @ApiProperty({ example: 'mtr_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  meterId!: string;

  @ApiProperty({ example: 'api.call' })
  eventType!: string;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ type: 'array', items: { type: 'integer' }, description: 'Events per bucket.' })
  events!: number[];

  @ApiProperty({ ...DIGITS, description: 'Quantity per bucket (exact, as digits).' })
  quantity!: string[];

  @ApiProperty({ ...DIGITS, description: 'Amount charged per bucket, in minor units of `currency`.' })
  amount!: string[];

  @ApiProperty({ type: 'string', pattern: '^\\d+$', example: '1200' })
  totalQuantity!: string;

  @ApiProperty({ type: 'string', pattern: '^\\d+$', example: '2400' })
  totalAmount!: string;
}

export class UsageSeriesView {
  @ApiProperty({ type: 'string', format: 'date-time' })
  from!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  to!: string;

  @ApiProperty({ type: 'integer', example: 3600 })
  step!: number;

  @ApiProperty({
    type: 'array',
    items: { type: 'integer' },
    description: "Each bucket's start, in Unix seconds.",
  })
  times!: number[];

  @ApiProperty({ example: TENANT_ID })
  tenantId!: string;

  @ApiProperty({ type: 'string', nullable: true })
  accountId!: string | null;

  @ApiProperty({ type: [MeterUsageSeriesView], description: 'The meters with usage in the window.' })
  meters!: MeterUsageSeriesView[];
}
