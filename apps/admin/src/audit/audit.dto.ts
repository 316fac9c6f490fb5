import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { Limit, OptionalText } from '../http/fields.js';

export class AuditQuery {
  @OptionalText(100, { example: 'account.freeze' })
  action?: string;

  @OptionalText(100, { example: 'account' })
  targetType?: string;

  @OptionalText(200, { example: 'acc_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  targetId?: string;

  @OptionalText(100)
  operatorId?: string;

  @IsOptional()
  @Matches(/^\d{1,19}$/, { message: 'before must be an entry id' })
  @ApiPropertyOptional({ description: 'The `nextBefore` of the previous page.', pattern: '^\\d{1,19}$' })
  before?: string;

  @Limit(100)
  limit?: number;
}

export class AuditEntryView {
  @ApiProperty({ example: '1042' })
  id!: string;

  @ApiProperty({ type: 'string', nullable: true, description: 'Null for the start-up bootstrap.' })
  operatorId!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  operatorEmail!: string | null;

  @ApiProperty({ example: 'account.freeze' })
  action!: string;

  @ApiProperty({ example: 'account' })
  targetType!: string;

  @ApiProperty({ type: 'string', nullable: true })
  targetId!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'fraud review' })
  reason!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What the action saw and did.' })
  details!: Record<string, unknown>;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;
}

export class AuditPage {
  @ApiProperty({ type: [AuditEntryView] })
  data!: AuditEntryView[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as `before` for the next page; null on the last.',
  })
  nextBefore!: string | null;
}
