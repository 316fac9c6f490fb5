import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, QUERY_PROBLEMS } from '../docs/problems.js';
import { MetricsOverview } from './metrics-overview.js';
import { MetricsQuery, MetricsView } from './metrics.dto.js';

/** The dashboard's numbers, cheap enough to refresh every few seconds. */
@ApiTags('Metrics')
@Controller('admin/api/metrics')
@UseGuards(RolesGuard)
export class MetricsController {
  constructor(@Inject(MetricsOverview) private readonly overviews: MetricsOverview) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({
    summary: 'The overview',
    description:
      'Throughput, success rates and latency percentiles per transaction and usage type, the outbox ' +
      'backlog, webhook deliveries, dead letters, queue depths and which services consume.',
  })
  @ApiOkResponse({ type: MetricsView })
  @ApiProblems(...QUERY_PROBLEMS)
  async overview(@Query() q: MetricsQuery): Promise<MetricsView> {
    return this.overviews.of(q.window ?? '1h', q.tenantId ?? null);
  }
}
