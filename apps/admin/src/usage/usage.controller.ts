import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, BODY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { ReasonBody } from '../http/reason.dto.js';
import { RebillUsage } from './rebill-usage.use-case.js';
import { RerunUsageEvent } from './rerun-usage-event.use-case.js';
import { UsageLogRepository } from './usage-log.repository.js';
import {
  RebillBody,
  RebillView,
  UsageEventList,
  UsageEventParams,
  UsageLogQuery,
  UsageRerunView,
} from './usage.dto.js';

/** Usage logs for operators; re-running a failed usage event; re-billing unbilled usage. */
@ApiTags('Usage')
@Controller('admin/api')
@UseGuards(RolesGuard)
export class UsageController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(UsageLogRepository) private readonly usage: UsageLogRepository,
    @Inject(RerunUsageEvent) private readonly rerunEvent: RerunUsageEvent,
    @Inject(RebillUsage) private readonly rebill: RebillUsage,
  ) {}

  @Get('usage-events')
  @Needs('viewer')
  @ApiOperation({ summary: 'Usage events', description: 'Newest received first, with how each was billed.' })
  @ApiOkResponse({ type: UsageEventList })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@Query() q: UsageLogQuery): Promise<UsageEventList> {
    return { data: await this.usage.list(this.dataSource.manager, { ...q, limit: q.limit ?? 100 }) };
  }

  @Post('usage-events/:tenantId/:id/rerun')
  @Needs('operator')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Process a failed usage event again',
    description: 'Once its cause is fixed (a meter, an account, the rules).',
  })
  @ApiAcceptedResponse({ type: UsageRerunView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS, 'usage_event_not_failed')
  async rerunUsage(
    @CurrentOperator() operator: Operator,
    @Param() { tenantId, id }: UsageEventParams,
    @Body() { reason }: ReasonBody,
  ): Promise<UsageRerunView> {
    return this.rerunEvent.execute(operator, tenantId, id, reason);
  }

  @Post('usage/rebill')
  @Needs('operator')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Charge unbilled usage again',
    description:
      "Usage a tenant's wallets could not pay for (processed but unbilled), over [from, to) by occurrence, " +
      'optionally for one account: each event is charged at the price it was given, exactly once however ' +
      'often this is asked; one that still cannot pay stays unbilled with the new reason.',
  })
  @ApiAcceptedResponse({ type: RebillView })
  @ApiProblems(...BODY_PROBLEMS, 'not_found')
  async rebillUsage(@CurrentOperator() operator: Operator, @Body() input: RebillBody): Promise<RebillView> {
    return this.rebill.execute(operator, input);
  }
}
