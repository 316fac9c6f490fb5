import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { PayoutRepository } from '#persistence';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, BODY_PROBLEMS, PATH_PROBLEMS } from '../docs/problems.js';
import {
  PayoutMismatchList,
  PayoutMismatchParams,
  SettledMismatchView,
  SettlePayoutMismatchBody,
} from './payouts.dto.js';
import { SettlePayoutMismatch } from './settle-payout-mismatch.use-case.js';

/** Payouts reconciliation found differing from the provider's report, and settling them. */
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
  @ApiOperation({ summary: 'Open payout mismatches', description: 'Oldest first (at most 500).' })
  @ApiOkResponse({ type: PayoutMismatchList })
  async list(): Promise<PayoutMismatchList> {
    const rows = await this.payouts.openMismatches(this.dataSource);
    return { data: rows.map((r) => ({ ...r, foundAt: r.foundAt!.toISOString() })) };
  }

  @Post(':transactionId/settle')
  @Needs('operator')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Settle a payout mismatch',
    description:
      'A payout with no outcome yet gets `outcome` (succeeded: the held funds are spent; failed: released); a final one is acknowledged. Audited.',
  })
  @ApiOkResponse({ type: SettledMismatchView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS, 'payout_outcome_required')
  settleOne(
    @CurrentOperator() operator: Operator,
    @Param() { transactionId }: PayoutMismatchParams,
    @Body() body: SettlePayoutMismatchBody,
  ): Promise<SettledMismatchView> {
    return this.settle.execute(operator, transactionId, body.outcome, body.reason);
  }
}
