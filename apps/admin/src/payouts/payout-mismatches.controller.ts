import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { PayoutRepository } from '#persistence';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, BODY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { ReasonBody } from '../http/reason.dto.js';
import {
  PayoutMismatchList,
  PayoutMismatchListQuery,
  PayoutMismatchParams,
  RejectedSettlementView,
  SettledMismatchView,
  SettlePayoutMismatchBody,
} from './payouts.dto.js';
import { SettlePayoutMismatch } from './settle-payout-mismatch.use-case.js';

/**
 * Payouts reconciliation found differing from the provider's report, and settling them (four eyes
 * above ADMIN_PAYOUT_SETTLE_APPROVAL_THRESHOLD).
 */
@ApiTags('Payouts')
@Controller('admin/api/payout-mismatches')
@UseGuards(RolesGuard)
export class PayoutMismatchesController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PayoutRepository) private readonly payouts: PayoutRepository,
    @Inject(SettlePayoutMismatch) private readonly settle: SettlePayoutMismatch,
  ) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({
    summary: 'Open payout mismatches',
    description: 'Newest first, a page at a time, each with its amount and any settlement awaiting approval.',
  })
  @ApiOkResponse({ type: PayoutMismatchList })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@Query() q: PayoutMismatchListQuery): Promise<PayoutMismatchList> {
    const limit = q.limit ?? 50;
    const rows = await this.payouts.mismatchPage(this.dataSource, q.before ?? null, limit + 1);
    const data = rows.slice(0, limit).map((r) => ({
      ...r,
      amount: r.amount.toString(),
      foundAt: r.foundAt.toISOString(),
      pendingApproval: r.pendingApproval && {
        ...r.pendingApproval,
        requestedAt: r.pendingApproval.requestedAt.toISOString(),
      },
    }));
    return { data, nextBefore: rows.length > limit ? data[data.length - 1].transactionId : null };
  }

  @Post(':transactionId/settle')
  @Needs('operator')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Settle a payout mismatch',
    description:
      'A payout with no outcome yet gets `outcome` (succeeded: the held funds are spent; failed: released); a final one is acknowledged. ' +
      'Above ADMIN_PAYOUT_SETTLE_APPROVAL_THRESHOLD it waits for a second operator (`pending_approval`). Audited.',
  })
  @ApiOkResponse({ type: SettledMismatchView })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ...PATH_PROBLEMS,
    'payout_outcome_required',
    'payout_settlement_pending',
    'payout_mismatch_resolved',
  )
  settleOne(
    @CurrentOperator() operator: Operator,
    @Param() { transactionId }: PayoutMismatchParams,
    @Body() body: SettlePayoutMismatchBody,
  ): Promise<SettledMismatchView> {
    return this.settle.execute(operator, transactionId, body.outcome, body.reason);
  }

  @Post(':transactionId/approve')
  @Needs('operator')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Approve a pending settlement',
    description:
      'By an operator other than the one who asked; the settlement is carried out once (a second approval finds it settled). Audited.',
  })
  @ApiOkResponse({ type: SettledMismatchView })
  @ApiProblems(
    ...PATH_PROBLEMS,
    'second_approval_required',
    'payout_settlement_not_pending',
    'payout_mismatch_resolved',
  )
  approve(
    @CurrentOperator() operator: Operator,
    @Param() { transactionId }: PayoutMismatchParams,
  ): Promise<SettledMismatchView> {
    return this.settle.approve(operator, transactionId);
  }

  @Post(':transactionId/reject')
  @Needs('operator')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Reject a pending settlement',
    description: 'Its requester may withdraw it too; the mismatch stays open. Audited.',
  })
  @ApiOkResponse({ type: RejectedSettlementView })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ...PATH_PROBLEMS,
    'payout_settlement_not_pending',
    'payout_mismatch_resolved',
  )
  reject(
    @CurrentOperator() operator: Operator,
    @Param() { transactionId }: PayoutMismatchParams,
    @Body() { reason }: ReasonBody,
  ): Promise<RejectedSettlementView> {
    return this.settle.reject(operator, transactionId, reason);
  }
}
