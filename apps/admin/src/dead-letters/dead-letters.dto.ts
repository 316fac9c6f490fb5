import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsObject, IsOptional, Max, Min, ValidateNested } from 'class-validator';
import { Limit, OptionalOneOf, OptionalText, PathId, Reason } from '../http/fields.js';

const DEAD_LETTER_ID = 'dl_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
const STATUSES = ['pending', 'replayed', 'discarded'] as const;

export class DeadLetterParams {
  @PathId(DEAD_LETTER_ID)
  id!: string;
}

/** Which dead letters: every field narrows. */
export class DeadLetterFilterFields {
  @OptionalOneOf(STATUSES)
  status?: (typeof STATUSES)[number];

  @OptionalText(200, {
    description: 'The queue that failed it, or its dead-letter queue.',
    example: 'transaction-worker.commands',
  })
  queue?: string;

  @OptionalText(200, { description: 'The message type.', example: 'transaction.requested' })
  type?: string;

  @OptionalText(200, { example: 'transaction_missing' })
  errorCode?: string;

  @OptionalText(100)
  tenantId?: string;
}

export class DeadLetterListQuery extends DeadLetterFilterFields {
  @OptionalText(40, { description: 'The `nextBefore` of the previous page.' })
  before?: string;

  @Limit(50)
  limit?: number;
}

export class ReplayManyBody {
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => DeadLetterFilterFields)
  @ApiProperty({
    type: DeadLetterFilterFields,
    description: 'Only pending ones are replayed, whatever `status` says.',
  })
  filter!: DeadLetterFilterFields;

  @Reason()
  reason!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100 })
  limit?: number;
}

export class DeadLetterView {
  @ApiProperty({ example: DEAD_LETTER_ID })
  id!: string;

  @ApiProperty({ example: 'transaction-worker.commands.dlq' })
  dlq!: string;

  @ApiProperty({ type: 'string', nullable: true, example: 'transaction-worker.commands' })
  failedQueue!: string | null;

  @ApiProperty()
  messageId!: string;

  @ApiProperty({ type: 'string', nullable: true, example: 'transaction.requested' })
  type!: string | null;

  @ApiProperty({ example: 'tally.commands' })
  exchange!: string;

  @ApiProperty({ example: 'transaction.requested' })
  routingKey!: string;

  @ApiProperty({ type: 'string', nullable: true })
  correlationId!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  tenantId!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'transaction txn_… does not exist' })
  error!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'transaction_missing' })
  errorCode!: string | null;

  @ApiProperty({ type: 'integer', nullable: true })
  attempts!: number | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  failedAt!: Date;

  @ApiProperty({ enum: STATUSES })
  status!: string;

  @ApiProperty({ type: 'integer' })
  replays!: number;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  resolvedAt!: Date | null;

  @ApiProperty({ type: 'string', nullable: true, description: 'The reason it was replayed or discarded.' })
  resolution!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;
}

export class DeadLetterDetailView extends DeadLetterView {
  @ApiProperty({ description: 'The message body, as it was sent (text).' })
  payload!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Its AMQP headers.' })
  headers!: Record<string, unknown>;
}

export class DeadLetterPage {
  @ApiProperty({ type: [DeadLetterView] })
  data!: DeadLetterView[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as `before` for the next page; null on the last.',
  })
  nextBefore!: string | null;
}

export class ReplayedView {
  @ApiProperty({ example: DEAD_LETTER_ID })
  id!: string;

  @ApiProperty({ enum: ['replayed'] })
  status!: 'replayed';
}

export class ReplayedManyView {
  @ApiProperty({ type: 'integer', description: 'How many were replayed.' })
  replayed!: number;
}

export class DiscardedView {
  @ApiProperty({ example: DEAD_LETTER_ID })
  id!: string;

  @ApiProperty({ enum: ['discarded'] })
  status!: 'discarded';
}
