import { ApiProperty } from '@nestjs/swagger';
import { OptionalOneOf, PathId } from '../http/fields.js';

const ADJUSTMENT_ID = 'adj_01JDQ8Y4T9M2K3N4P5Q6R7S8T9';
const STATUSES = ['pending', 'executed', 'rejected'] as const;

export class AdjustmentParams {
  @PathId(ADJUSTMENT_ID)
  id!: string;
}

export class AdjustmentListQuery {
  @OptionalOneOf(STATUSES)
  status?: (typeof STATUSES)[number];
}

/** What requesting an adjustment (or re-running a failed one) answers. */
export class AdjustmentAnswerView {
  @ApiProperty({ example: ADJUSTMENT_ID })
  id!: string;

  @ApiProperty({ enum: ['pending_approval', 'executed'] })
  status!: 'pending_approval' | 'executed';

  @ApiProperty({ type: 'string', nullable: true, description: 'The adjustment transaction, once executed.' })
  transactionId!: string | null;
}

export class AdjustmentView {
  @ApiProperty({ example: ADJUSTMENT_ID })
  id!: string;

  @ApiProperty()
  tenantId!: string;

  @ApiProperty()
  accountId!: string;

  @ApiProperty({ enum: ['credit', 'debit'] })
  direction!: string;

  @ApiProperty({ type: 'string', pattern: '^\\d+$', example: '2500' })
  amount!: string;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty()
  reason!: string;

  @ApiProperty({ enum: STATUSES })
  status!: string;

  @ApiProperty({ description: 'The operator who asked.' })
  requestedBy!: string;

  @ApiProperty({ type: 'string', nullable: true, description: 'The operator who approved or rejected it.' })
  decidedBy!: string | null;

  @ApiProperty({ type: 'string', nullable: true })
  transactionId!: string | null;

  @ApiProperty()
  approvalRequired!: boolean;

  @ApiProperty({ type: 'string', nullable: true, description: 'The failed transaction this one re-runs.' })
  rerunOf!: string | null;

  @ApiProperty({ type: 'string', format: 'date-time' })
  createdAt!: Date;

  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  decidedAt!: Date | null;
}

export class AdjustmentList {
  @ApiProperty({ type: [AdjustmentView] })
  data!: AdjustmentView[];
}

export class ApprovedView {
  @ApiProperty({ example: ADJUSTMENT_ID })
  id!: string;

  @ApiProperty({ enum: ['executed'] })
  status!: 'executed';

  @ApiProperty()
  transactionId!: string;
}

export class RejectedView {
  @ApiProperty({ example: ADJUSTMENT_ID })
  id!: string;

  @ApiProperty({ enum: ['rejected'] })
  status!: 'rejected';
}
