import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { parseJson } from '#domain';
import { ValidationError } from '#http';
import { UsageRepository, type ListedUsageEvent, type UsageEventStats } from '#persistence';
import { Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, QUERY_PROBLEMS } from '../docs/problems.js';
import {
  AdminEventPage,
  AdminEventStatsQuery,
  AdminEventStatsView,
  AdminEventsQuery,
  type AdminEventView,
} from './events.dto.js';

const DAY_MS = 86_400_000;
/** The widest stats range, and the widest by hour (as GET /v1/events/stats). */
const MAX_STATS_DAYS = 366;
const MAX_HOURLY_DAYS = 31;
/** A cursor: where the previous page ended, received_at to the microsecond and the id. */
const POSITION = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([\x21-\x7e]{1,255})$/;
const STATUS_OF = { pending: 'received', processed: 'processed', failed: 'failed' } as const;

/**
 * A tenant's usage events for operators: the list and the counts of GET /v1/events and
 * GET /v1/events/stats, through the same repository (and so the same indexes and order).
 */
@ApiTags('Events')
@Controller('admin/api/events')
@UseGuards(RolesGuard)
export class EventsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(UsageRepository) private readonly usage: UsageRepository,
  ) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({
    summary: "A tenant's events, newest received first",
    description:
      'Filters combine (type, account, status, received in [`from`, `to`)); pages by `nextCursor` are stable: ' +
      'events received later never shift them.',
  })
  @ApiOkResponse({ type: AdminEventPage })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@Query() q: AdminEventsQuery): Promise<AdminEventPage> {
    const limit = q.limit ?? 50;
    const from = q.from ? new Date(q.from) : undefined;
    const to = q.to ? new Date(q.to) : undefined;
    if (from && to && from >= to)
      throw new ValidationError([{ field: 'from', message: 'must be before to' }]);
    const position = q.cursor === undefined ? undefined : POSITION.exec(decode(q.cursor));
    if (position === null)
      throw new ValidationError([{ field: 'cursor', message: 'is not a cursor of this list' }]);
    const rows = await this.usage.list(this.dataSource.manager, q.tenantId, {
      type: q.type,
      accountId: q.accountId,
      status: q.status ? STATUS_OF[q.status] : undefined,
      from,
      to,
      after: position ? { receivedAt: position[1], id: position[2] } : undefined,
      limit: limit + 1,
    });
    const data = rows.slice(0, limit);
    const last = data[data.length - 1];
    return {
      data: data.map(present),
      nextCursor:
        rows.length > limit
          ? Buffer.from(`${last.position.receivedAt}|${last.position.id}`).toString('base64url')
          : null,
    };
  }

  @Get('stats')
  @Needs('viewer')
  @ApiOperation({
    summary: "Counts of a tenant's events by type, hour or day",
    description:
      'Received in [`from`, `to`) (default: the last 24 hours): received, pending, processed and failed, and the ' +
      `failed ones by code, per bucket and in total; at most ${MAX_STATS_DAYS} days (${MAX_HOURLY_DAYS} by hour).`,
  })
  @ApiOkResponse({ type: AdminEventStatsView })
  @ApiProblems(...QUERY_PROBLEMS)
  async stats(@Query() q: AdminEventStatsQuery): Promise<AdminEventStatsView> {
    const groupBy = q.groupBy ?? 'type';
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
    if (from >= to) throw new ValidationError([{ field: 'from', message: 'must be before to' }]);
    const maxDays = groupBy === 'hour' ? MAX_HOURLY_DAYS : MAX_STATS_DAYS;
    if (to.getTime() - from.getTime() > maxDays * DAY_MS)
      throw new ValidationError([{ field: 'from', message: `the range may span at most ${maxDays} days` }]);
    const rows = await this.usage.stats(this.dataSource.manager, q.tenantId, { from, to, groupBy });
    return { from: from.toISOString(), to: to.toISOString(), groupBy, totals: totalsOf(rows), data: rows };
  }
}

const decode = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8');

function present(e: ListedUsageEvent): AdminEventView {
  const p = e.processed;
  return {
    id: e.id,
    type: e.type,
    accountId: e.accountId,
    status: e.status,
    occurredAt: e.occurredAt.toISOString(),
    receivedAt: e.receivedAt.toISOString(),
    processedAt: (p?.processedAt ?? e.failed?.failedAt)?.toISOString() ?? null,
    properties: parseJson(e.propertiesJson),
    billing:
      p && p.billingStatus !== 'not_metered'
        ? {
            status: p.billingStatus,
            meterId: p.meterId,
            quantity: p.quantity?.toString() ?? null,
            amount: p.amount?.toString() ?? null,
            currency: p.currency,
            unbilledCode: p.unbilledCode,
          }
        : null,
    failure: e.failed ? { code: e.failed.code, message: e.failed.reason } : null,
  };
}

/** The buckets added up, failure codes summed across buckets, most frequent first. */
function totalsOf(rows: UsageEventStats[]) {
  const reasons = new Map<string, number>();
  const totals = { received: 0, pending: 0, processed: 0, failed: 0 };
  for (const r of rows) {
    totals.received += r.received;
    totals.pending += r.pending;
    totals.processed += r.processed;
    totals.failed += r.failed;
    for (const { code, count } of r.failureReasons) reasons.set(code, (reasons.get(code) ?? 0) + count);
  }
  return {
    ...totals,
    failureReasons: [...reasons]
      .map(([code, count]) => ({ code, count }))
      .sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1)),
  };
}
