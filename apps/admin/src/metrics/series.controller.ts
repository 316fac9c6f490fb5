import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, QUERY_PROBLEMS } from '../docs/problems.js';
import { SeriesRepository, type Point } from './series.repository.js';
import {
  SeriesQuery,
  SeriesView,
  UsageSeriesQuery,
  UsageSeriesView,
  WindowQuery,
  windowOf,
} from './series.dto.js';

const WINDOW =
  'Over [`from`, `to`) (default: the last hour) in buckets of `step` seconds (default: the window in 120), ' +
  'at most 1500 buckets and 93 days.';

/** The dashboard's charts: one time series per route, each bucket's start in `times`. */
@ApiTags('Metrics')
@Controller('admin/api')
@UseGuards(RolesGuard)
export class SeriesController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(SeriesRepository) private readonly series: SeriesRepository,
  ) {}

  @Get('metrics/series/throughput')
  @Needs('viewer')
  @ApiOperation({
    summary: 'Throughput over time',
    description: `Transactions created per bucket, one line per type, and usage events processed (\`usage events\`). ${WINDOW}`,
  })
  @ApiOkResponse({ type: SeriesView })
  @ApiProblems(...QUERY_PROBLEMS)
  async throughput(@Query() q: SeriesQuery): Promise<SeriesView> {
    const w = windowOf(q);
    return lines(w, await this.series.throughput(this.dataSource.manager, w, q.tenantId ?? null), 0);
  }

  @Get('metrics/series/latency')
  @Needs('viewer')
  @ApiOperation({
    summary: 'Latency percentiles over time',
    description: `p50, p95 and p99 (ms) of accepted-to-final of the transactions created in each bucket. ${WINDOW}`,
  })
  @ApiOkResponse({ type: SeriesView })
  @ApiProblems(...QUERY_PROBLEMS)
  async latency(@Query() q: SeriesQuery): Promise<SeriesView> {
    const w = windowOf(q);
    return lines(w, await this.series.latency(this.dataSource.manager, w, q.tenantId ?? null), null);
  }

  @Get('metrics/series/queues')
  @Needs('viewer')
  @ApiOperation({
    summary: 'Queue depths over time',
    description:
      'The messages waiting in each queue and its DLQ, sampled by the admin every ADMIN_METRICS_SAMPLE_SECONDS: ' +
      `the highest sample per bucket (null: no sample). ${WINDOW}`,
  })
  @ApiOkResponse({ type: SeriesView })
  @ApiProblems(...QUERY_PROBLEMS)
  async queues(@Query() q: WindowQuery): Promise<SeriesView> {
    const w = windowOf(q);
    return lines(w, await this.series.queues(this.dataSource.manager, w), null);
  }

  @Get('metrics/series/outbox')
  @Needs('viewer')
  @ApiOperation({
    summary: 'Outbox lag over time',
    description:
      'Publish lag (written to published, ms: `lag p50`, `lag p99`, `lag max`) of the messages published in each ' +
      `bucket, and the sampled unpublished \`backlog\`. ${WINDOW}`,
  })
  @ApiOkResponse({ type: SeriesView })
  @ApiProblems(...QUERY_PROBLEMS)
  async outbox(@Query() q: WindowQuery): Promise<SeriesView> {
    const w = windowOf(q);
    return lines(w, await this.series.outbox(this.dataSource.manager, w), null);
  }

  @Get('usage/series')
  @Needs('viewer')
  @ApiOperation({
    summary: 'Usage per meter over time',
    description:
      "A tenant's metered usage by time of occurrence, per meter: events, quantity and the amount charged (minor " +
      `units of the meter's currency) per bucket, optionally of one account or one meter. ${WINDOW}`,
  })
  @ApiOkResponse({ type: UsageSeriesView })
  @ApiProblems(...QUERY_PROBLEMS)
  async usage(@Query() q: UsageSeriesQuery): Promise<UsageSeriesView> {
    const w = windowOf(q);
    const rows = await this.series.usage(this.dataSource.manager, w, q);
    const times = timesOf(w);
    const meters = new Map<string, UsageSeriesView['meters'][number]>();
    for (const r of rows) {
      let meter = meters.get(r.meterId);
      if (!meter) {
        meter = {
          meterId: r.meterId,
          eventType: r.eventType,
          currency: r.currency,
          events: times.map(() => 0),
          quantity: times.map(() => '0'),
          amount: times.map(() => '0'),
          totalQuantity: '0',
          totalAmount: '0',
        };
        meters.set(r.meterId, meter);
      }
      const i = (r.t - times[0]) / w.step;
      meter.events[i] = r.events;
      meter.quantity[i] = r.quantity;
      meter.amount[i] = r.amount;
      meter.totalQuantity = (BigInt(meter.totalQuantity) + BigInt(r.quantity)).toString();
      meter.totalAmount = (BigInt(meter.totalAmount) + BigInt(r.amount)).toString();
    }
    return {
      from: w.from.toISOString(),
      to: w.to.toISOString(),
      step: w.step,
      times,
      tenantId: q.tenantId,
      accountId: q.accountId ?? null,
      meters: [...meters.values()].sort((a, b) => (a.eventType < b.eventType ? -1 : 1)),
    };
  }
}

/** Each bucket's start in Unix seconds (`from` is a whole second). */
function timesOf(w: { from: Date; step: number; buckets: number }): number[] {
  const start = w.from.getTime() / 1000;
  return Array.from({ length: w.buckets }, (_, i) => start + i * w.step);
}

/** Points as one line per name over every bucket; `none` where a bucket has no point. */
function lines(
  w: { from: Date; to: Date; step: number; buckets: number },
  points: Point[],
  none: 0 | null,
): SeriesView {
  const times = timesOf(w);
  const start = w.from.getTime() / 1000;
  const byName = new Map<string, (number | null)[]>();
  for (const p of points) {
    const values = byName.get(p.name) ?? times.map(() => none);
    values[(p.t - start) / w.step] = p.value === null ? null : Number(p.value);
    byName.set(p.name, values);
  }
  return {
    from: w.from.toISOString(),
    to: w.to.toISOString(),
    step: w.step,
    times,
    series: [...byName]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, values]) => ({ name, values })),
  };
}
