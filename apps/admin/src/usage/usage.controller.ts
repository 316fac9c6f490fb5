import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { ValidationError } from '#http';
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
    const limit = q.limit ?? 100;
    const after = q.before === undefined ? undefined : positionOf(q.before);
    const rows = await this.usage.list(this.dataSource.manager, { ...q, after, limit: limit + 1 });
    const data = rows.slice(0, limit);
    const last = data[data.length - 1];
    return {
      data: data.map(({ position: _, ...row }) => row),
      nextBefore:
        rows.length > limit
          ? Buffer.from(JSON.stringify([last.position, last.tenantId, last.id])).toString('base64url')
          : null,
    };
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

/** A `before` cursor read back: the last row of the previous page; a 400 when it is not one. */
function positionOf(before: string): { receivedAt: string; tenantId: string; id: string } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(before, 'base64url').toString('utf8'));
  } catch {
    value = null;
  }
  if (
    !Array.isArray(value) ||
    value.length !== 3 ||
    !value.every((v) => typeof v === 'string') ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(value[0] as string)
  ) {
    throw new ValidationError([{ field: 'before', message: 'is not a position of this list' }]);
  }
  const [receivedAt, tenantId, id] = value as string[];
  return { receivedAt, tenantId, id };
}
