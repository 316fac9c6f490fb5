import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, BODY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { ReasonBody } from '../http/reason.dto.js';
import { AdjustmentRepository } from './adjustment.repository.js';
import { Adjustments } from './adjustments.js';
import {
  AdjustmentList,
  AdjustmentListQuery,
  AdjustmentParams,
  ApprovedView,
  RejectedView,
} from './adjustments.dto.js';

/** Adjustment requests and the four-eyes rule: a second operator approves or rejects a pending one. */
@ApiTags('Adjustments')
@Controller('admin/api/adjustments')
@UseGuards(RolesGuard)
export class AdjustmentsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AdjustmentRepository) private readonly requests: AdjustmentRepository,
    @Inject(Adjustments) private readonly adjustments: Adjustments,
  ) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({ summary: 'Adjustment requests', description: 'Newest first, at most 200.' })
  @ApiOkResponse({ type: AdjustmentList })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@Query() q: AdjustmentListQuery): Promise<AdjustmentList> {
    return { data: await this.requests.list(this.dataSource.manager, q.status) };
  }

  @Post(':id/approve')
  @Needs('operator')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Approve a pending adjustment',
    description: 'By an operator other than the one who asked; it is executed through the worker.',
  })
  @ApiAcceptedResponse({ type: ApprovedView })
  @ApiProblems(...PATH_PROBLEMS, 'second_approval_required', 'adjustment_not_pending')
  async approve(
    @CurrentOperator() operator: Operator,
    @Param() { id }: AdjustmentParams,
  ): Promise<ApprovedView> {
    return this.adjustments.approve(operator, id);
  }

  @Post(':id/reject')
  @Needs('operator')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Reject a pending adjustment',
    description:
      'Its requester may withdraw it too. A rejected re-run leaves the failed transaction free to re-run.',
  })
  @ApiOkResponse({ type: RejectedView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS, 'adjustment_not_pending')
  async reject(
    @CurrentOperator() operator: Operator,
    @Param() { id }: AdjustmentParams,
    @Body() { reason }: ReasonBody,
  ): Promise<RejectedView> {
    return this.adjustments.reject(operator, id, reason);
  }
}
