import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, ValidateBy } from 'class-validator';
import {
  Before,
  Instant,
  Limit,
  NextBefore,
  OptionalInstant,
  OptionalOneOf,
  OptionalText,
  PathId,
  Reason,
} from '../http/fields.js';
import { MAX_REBILL_EVENTS } from './rebill-usage.use-case.js';

const TENANT_ID = 'ten_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
const STATUSES = ['received', 'processed', 'failed'] as const;

export class UsageEventParams {
  @PathId(TENANT_ID)
  tenantId!: string;

  @PathId('evt-2026-12-01-000042')
  id!: string;
}

export class UsageLogQuery {
  @OptionalText(64, { example: TENANT_ID })
  tenantId?: string;

  @OptionalText(64)
  accountId?: string;

  @OptionalText(64)
  apiKeyId?: string;

  @OptionalText(100, { example: 'api_call' })
  type?: string;

  @OptionalOneOf(STATUSES)
  status?: (typeof STATUSES)[number];

  @OptionalInstant('Received at or after.')
  from?: string;

  @OptionalInstant('Received before.')
  to?: string;

  @Before()
  before?: string;

  @Limit(100)
  limit?: number;
}

/** `to` comes after `from`. */
const AfterFrom = () =>
  ValidateBy({
    name: 'afterFrom',
    validator: {
      validate: (to: unknown, args) => {
        const from = (args?.object as { from?: unknown }).from;
        return typeof to !== 'string' || typeof from !== 'string' || Date.parse(from) < Date.parse(to);
      },
      defaultMessage: () => '"from" must be before "to"',
    },
  });

export class RebillBody {
  @IsString()
  @Length(1, 64)
  @ApiProperty({ example: TENANT_ID })
  tenantId!: string;

  @IsOptional()
  @IsString()
  @Length(1, 64)
  @ApiPropertyOptional({ description: 'Only this account’s usage.' })
  accountId?: string;

  @Instant('From this occurrence time (inclusive).')
  from!: string;

  @Instant('To this occurrence time (exclusive); after `from`.')
  @AfterFrom()
  to!: string;

  @Reason()
  reason!: string;
}

export class UsageEventView {
  @ApiProperty({ example: TENANT_ID })
  tenantId!: string;

  @ApiProperty({ description: "The client's event id." })
  id!: string;

  @ApiProperty({ example: 'api_call' })
  type!: string;

  @ApiProperty({ type: 'string', nullable: true })
  accountId!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  apiKeyId!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  occurredAt!: Date;

  @ApiProperty({ type: 'string', format: 'date-time' })
  receivedAt!: Date;

  @ApiProperty({ enum: STATUSES })
  status!: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  properties!: Record<string, unknown>;

  @ApiProperty({ type: 'string', nullable: true, description: 'Once processed.' })
  category!: string | null;

  @ApiProperty({ type: 'string', nullable: true, enum: ['charged', 'unbilled', 'not_metered', null] })
  billingStatus!: string | null;

  @ApiProperty({
    type: 'string',
    pattern: '^\\d+$',
    nullable: true,
    description: 'What it was charged (minor units).',
  })
  amount!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'USD', description: "The amount's currency." })
  currency!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'insufficient_funds' })
  unbilledCode!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  transactionId!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'invalid_purchase' })
  failureCode!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  failureReason!: string | null;
}

export class UsageEventList {
  @ApiProperty({ type: [UsageEventView] })
  data!: UsageEventView[];

  @NextBefore()
  nextBefore!: string | null;
}

export class UsageRerunView {
  @ApiProperty({ example: TENANT_ID })
  tenantId!: string;

  @ApiProperty()
  id!: string;

  @ApiProperty({ enum: ['received'] })
  status!: 'received';
}

export class RebillView {
  @ApiProperty({ example: TENANT_ID })
  tenantId!: string;

  @ApiProperty({ type: 'string', nullable: true })
  accountId!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  from!: string;

  @ApiProperty({ type: 'string', format: 'date-time' })
  to!: string;

  @ApiProperty({ type: 'integer', description: 'Unbilled events sent to be charged again.' })
  events!: number;

  @ApiProperty({
    description: `More than one re-bill takes (${MAX_REBILL_EVENTS}) matched: ask again for the rest.`,
  })
  more!: boolean;
}
