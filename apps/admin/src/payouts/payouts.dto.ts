import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { AMOUNT_TEXT, Before, Limit, Reason } from '../http/fields.js';

/** A path naming a payout by its withdrawal. */
export class PayoutMismatchParams {
  @IsString()
  @ApiProperty({ description: 'The withdrawal (transaction id).', example: 'txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  transactionId!: string;
}

/** POST /admin/api/payout-mismatches/{transactionId}/settle */
export class SettlePayoutMismatchBody {
  @Reason()
  reason!: string;

  @IsOptional()
  @IsIn(['succeeded', 'failed'])
  @ApiPropertyOptional({
    enum: ['succeeded', 'failed'],
    description:
      'For a payout without an outcome yet (unknown): succeeded (paid: the held funds are spent) or failed (released). ' +
      'Not taken for a final one: resolving it records the decision; money is corrected by an adjustment.',
  })
  outcome?: 'succeeded' | 'failed';
}

/** GET /admin/api/payout-mismatches */
export class PayoutMismatchListQuery {
  @Before()
  before?: string;

  @Limit(50)
  limit?: number;
}

/** A settlement above ADMIN_PAYOUT_SETTLE_APPROVAL_THRESHOLD, waiting for a second operator. */
export class PendingSettlementView {
  @ApiProperty({ example: 'op_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  requestedBy!: string;

  @ApiProperty({ nullable: true, type: String, example: 'ana@example.com' })
  requestedByEmail!: string | null;

  @ApiProperty({ example: '2026-12-01T10:05:00.000Z' })
  requestedAt!: string;

  @ApiProperty({
    nullable: true,
    enum: ['succeeded', 'failed'],
    description: 'The outcome applied on approval; null for a payout that is final (acknowledged).',
  })
  outcome!: 'succeeded' | 'failed' | null;

  @ApiProperty({ example: 'the provider confirmed it never paid' })
  reason!: string;
}

/** What reconciliation found differs between Tally and the provider. */
export class PayoutMismatchView {
  @ApiProperty({ example: 'txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  transactionId!: string;

  @ApiProperty({ example: 'ten_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  tenantId!: string;

  @ApiProperty({
    enum: ['paid_but_failed', 'failed_but_succeeded', 'unknown_to_provider', 'paid_twice', 'amount_differs'],
  })
  kind!: string;

  @ApiProperty({ description: "Tally's payout status when found.", example: 'unknown' })
  tallyStatus!: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: "The provider's payout status.",
    example: 'paid',
  })
  providerStatus!: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'po_3f1c2a9e' })
  providerPayoutId!: string | null;

  @ApiProperty({ example: '2026-12-01T10:00:00.000Z' })
  foundAt!: string;

  @ApiProperty({ ...AMOUNT_TEXT, description: "The payout's amount in minor units." })
  amount!: string;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({
    type: PendingSettlementView,
    nullable: true,
    description: 'A settlement waiting for a second operator (null: none).',
  })
  pendingApproval!: PendingSettlementView | null;
}

export class PayoutMismatchList {
  @ApiProperty({ type: [PayoutMismatchView] })
  data!: PayoutMismatchView[];

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Where the next (older) page starts: its `before`; null on the last page.',
  })
  nextBefore!: string | null;
}

export class SettledMismatchView {
  @ApiProperty({ example: 'txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  transactionId!: string;

  @ApiProperty({
    enum: ['settled', 'pending_approval'],
    description:
      '`pending_approval`: the payout is above ADMIN_PAYOUT_SETTLE_APPROVAL_THRESHOLD; a second operator approves it.',
  })
  status!: 'settled' | 'pending_approval';

  @ApiProperty({
    nullable: true,
    description:
      'What was done: the outcome applied, or `acknowledged` for a payout that was final already; null while pending.',
    enum: ['succeeded', 'failed', 'acknowledged'],
  })
  resolution!: 'succeeded' | 'failed' | 'acknowledged' | null;
}

export class RejectedSettlementView {
  @ApiProperty({ example: 'txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9' })
  transactionId!: string;

  @ApiProperty({ enum: ['rejected'] })
  status!: 'rejected';
}

/** A payout provider's circuit breaker, as the worker last reported it. */
export class PayoutBreakerView {
  @ApiProperty({ description: "The provider (its API's host).", example: 'payouts.example.com' })
  provider!: string;

  @ApiProperty({
    enum: ['closed', 'open', 'half-open'],
    description:
      'closed: payouts are sent; open: no call until `retryAt`; half-open: one trial call decides.',
  })
  state!: 'closed' | 'open' | 'half-open';

  @ApiProperty({ description: 'Since when it is in this state.', example: '2026-12-01T10:00:00.000Z' })
  since!: string;

  @ApiProperty({ description: 'Failed calls in a row (timeouts, 5xx, connection errors).', example: 0 })
  consecutiveFailures!: number;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Open: when a trial call is let through.',
    example: '2026-12-01T10:00:30.000Z',
  })
  retryAt!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'The last failure.', example: 'timeout' })
  lastError!: string | null;

  @ApiProperty({ nullable: true, type: String, example: '2026-12-01T10:00:00.000Z' })
  lastFailureAt!: string | null;

  @ApiProperty({ description: 'The worker (host:pid) that reported it.', example: 'worker-7c9f:1' })
  reportedBy!: string;

  @ApiProperty({ example: '2026-12-01T10:00:00.000Z' })
  updatedAt!: string;
}

export class PayoutBreakerList {
  @ApiProperty({
    type: [PayoutBreakerView],
    description: 'One per provider a worker has called; empty while no worker pays out through a provider.',
  })
  data!: PayoutBreakerView[];
}
