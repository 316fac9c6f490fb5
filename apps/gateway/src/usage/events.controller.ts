import { Body, Controller, Get, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { Answer, REPLAYED } from '../docs/operations.js';
import { ApiProblems, BODY_PROBLEMS, KEY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { DataSource } from 'typeorm';
import { AccountNotFoundError, UsageEventNotFoundError } from '#domain';
import { Correlation, Metrics } from '#observability';
import { UsageRepository } from '#persistence';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { ValidationError } from '#http';
import { check, validated } from '../http/validation.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { Idempotent, idempotentWrite, type IdempotentWrite } from '../idempotency/idempotent.js';
import { IngestUsage, type IngestResult, type Rejection } from './ingest-usage.use-case.js';
import {
  EventParams,
  EventStatsQuery,
  EventStatsView,
  ListEventsQuery,
  UsageEventPage,
  USAGE_EVENT_EXAMPLE,
  UsageBatchDto,
  UsageEventDto,
  UsageEventView,
  UsageIngestResultView,
  isEventId,
} from './usage.dto.js';

import { presentEventStats, presentUsageEvent } from './usage.presenter.js';

const ACC = 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The widest range the stats count, and the widest in hours (31 days: 744 buckets). */
const MAX_STATS_DAYS = 366;
const MAX_HOURLY_DAYS = 31;
/** A list cursor: where the previous page ended, received_at to the microsecond and the id. */
const POSITION = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([\x21-\x7e]{1,255})$/;
const STATUS_OF = { pending: 'received', processed: 'processed', failed: 'failed' } as const;

@ApiTags('Usage')
@Controller('v1/events')
export class EventsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(UsageRepository) private readonly usage: UsageRepository,
    @Inject(IngestUsage) private readonly ingest: IngestUsage,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /**
   * One event, or `{ "events": [...] }` (≤ 500). A batch answers per index: one bad event does not
   * sink the others. A single event that is not valid is a 400, like any bad request.
   */
  @Post()
  @ApiOperation({
    operationId: 'recordUsageEvents',
    summary: 'Record one usage event, or a batch of up to 500',
    description:
      'Valid new events are stored (the raw audit trail) in one database transaction and processed in the background: checked against the ' +
      "business rules, priced by the event type's meter, and charged to `accountId` (see GET /v1/events/{id}). " +
      'An `id` the tenant already sent is a duplicate: counted, never processed twice. ' +
      'An event sent without an `id` gets an `evt_…` id from the server (answered in `ids`, index by index) and is never a duplicate. ' +
      'An event of a registered event type (POST /v1/event-types) whose properties do not satisfy its schema fails `schema_violation` when processed. ' +
      'A batch answers per index — one bad event does not sink the batch. A single event that is not valid answers 400 `validation_error`, ' +
      'and a single event naming an unknown account answers 404 `account_not_found`.',
  })
  @Idempotent({ required: false })
  @ApiExtraModels(UsageEventDto, UsageBatchDto)
  @ApiBody({
    schema: { oneOf: [{ $ref: getSchemaPath(UsageEventDto) }, { $ref: getSchemaPath(UsageBatchDto) }] },
    examples: {
      single: {
        summary: 'One event',
        value: {
          id: 'req-7f3a9c',
          type: 'api.call',
          accountId: ACC,
          timestamp: '2026-11-21T11:59:58Z',
          properties: { tokens: 1200, model: 'small' },
        },
      },
      batch: {
        summary: 'A batch',
        value: {
          events: [
            { id: 'req-7f3a9d', type: 'api.call', accountId: ACC, properties: { tokens: 300 } },
            { id: 'login-8812', type: 'user.login', accountId: null },
            { type: 'page.view', properties: { path: '/pricing' } },
          ],
        },
      },
    },
  })
  @Answer(202, UsageIngestResultView, 'Accepted; stored events are processed in the background', {
    example: {
      ids: ['req-7f3a9c', null],
      accepted: 1,
      duplicates: 0,
      rejected: [
        { index: 1, code: 'validation_error', message: 'type: must be 1-100 letters, digits, _ . : -' },
      ],
    },
    headers: REPLAYED,
  })
  @ApiProblems(...BODY_PROBLEMS, 'account_not_found', ...KEY_PROBLEMS)
  record(@CurrentTenant() tenant: Tenant, @Body() body: unknown): IdempotentWrite {
    const isBatch = typeof body === 'object' && body !== null && !Array.isArray(body) && 'events' in body;
    const items = isBatch ? batchOf(body) : [validated(UsageEventDto, body ?? {})];
    const events: { index: number; event: UsageEventDto }[] = [];
    const rejected: Rejection[] = [];
    items.forEach((item, index) => {
      const checked = item instanceof UsageEventDto ? { value: item } : check(UsageEventDto, item, '(event)');
      if (checked.value) events.push({ index, event: checked.value });
      else
        rejected.push({
          index,
          code: 'validation_error',
          message: checked.errors.map((e) => `${e.field}: ${e.message}`).join('; '),
        });
    });

    let result: IngestResult | undefined;
    return idempotentWrite(
      async (manager) => {
        result = await this.ingest.execute(manager, tenant, events, rejected, Correlation.id() ?? null);
        // A single event is the whole request: an unknown account is its answer.
        if (!isBatch && result.rejected.length > 0)
          throw new AccountNotFoundError(events[0].event.accountId!);
        return { status: 202, body: result, headers: {} };
      },
      (outcome) => {
        if (result && !outcome.replayed) {
          this.metrics.usageEventsReceived.inc({ outcome: 'accepted' }, result.accepted);
          this.metrics.usageEventsReceived.inc({ outcome: 'duplicate' }, result.duplicates);
          this.metrics.usageEventsReceived.inc({ outcome: 'rejected' }, result.rejected.length);
        }
        return outcome;
      },
    );
  }

  /**
   * The tenant's events, newest received first, filtered; pages by (receivedAt, id), so a page
   * never repeats or skips an event of the ones before it.
   */
  @Get()
  @ApiOperation({
    operationId: 'listUsageEvents',
    summary: 'List usage events, newest received first',
    description:
      'Filters combine: `type`, `accountId`, `status` (`pending` = received, not yet processed; `processed`; `failed`), ' +
      'and the range of receipt [`from`, `to`). Pages are stable: events received after the first page never shift the later ones.',
  })
  @Answer(200, UsageEventPage, 'A page of events', {
    example: { data: [USAGE_EVENT_EXAMPLE], nextCursor: null },
  })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@CurrentTenant() tenant: Tenant, @Query() q: ListEventsQuery) {
    const limit = q.limit ?? 20;
    const from = q.from ? new Date(q.from) : undefined;
    const to = q.to ? new Date(q.to) : undefined;
    if (from && to && from >= to)
      throw new ValidationError([{ field: 'from', message: 'must be before to' }]);
    const position = decodeCursor(q.cursor, (p) => POSITION.test(p));
    const [, receivedAt, id] = position ? POSITION.exec(position)! : [];
    const rows = await this.usage.list(this.dataSource.manager, tenant.tenantId, {
      type: q.type,
      accountId: q.accountId,
      status: q.status ? STATUS_OF[q.status] : undefined,
      from,
      to,
      after: position ? { receivedAt: receivedAt!, id: id! } : undefined,
      limit: limit + 1,
    });
    return pageOf(rows, limit, (e) => `${e.position.receivedAt}|${e.position.id}`, presentUsageEvent);
  }

  /** Counts over a range of receipt, by type, UTC hour or UTC day, with the failures' codes. */
  @Get('stats')
  @ApiOperation({
    operationId: 'getUsageEventStats',
    summary: 'Event counts by type, hour or day',
    description:
      'Events received in [`from`, `to`) (default: the last 24 hours): received, pending, processed and failed, and the failed ones by code ' +
      `(\`schema_violation\`, \`invalid_quantity\`, …), per bucket and in total. \`from\` must be before \`to\`, at most ${MAX_STATS_DAYS} days before it ` +
      `(${MAX_HOURLY_DAYS} days with \`groupBy=hour\`).`,
  })
  @Answer(200, EventStatsView, 'The counts', {
    example: {
      from: '2026-11-20T12:00:00.000Z',
      to: '2026-11-21T12:00:00.000Z',
      groupBy: 'type',
      totals: {
        received: 120,
        pending: 2,
        processed: 115,
        failed: 3,
        failureReasons: [{ code: 'schema_violation', count: 3 }],
      },
      data: [
        {
          key: 'api.call',
          received: 120,
          pending: 2,
          processed: 115,
          failed: 3,
          failureReasons: [{ code: 'schema_violation', count: 3 }],
        },
      ],
    },
  })
  @ApiProblems(...QUERY_PROBLEMS)
  async stats(@CurrentTenant() tenant: Tenant, @Query() q: EventStatsQuery) {
    const groupBy = q.groupBy ?? 'type';
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
    if (from >= to) throw new ValidationError([{ field: 'from', message: 'must be before to' }]);
    const maxDays = groupBy === 'hour' ? MAX_HOURLY_DAYS : MAX_STATS_DAYS;
    if (to.getTime() - from.getTime() > maxDays * DAY_MS) {
      throw new ValidationError([
        {
          field: 'from',
          message: `the range may span at most ${maxDays} days${groupBy === 'hour' ? ' by hour' : ''}`,
        },
      ]);
    }
    const rows = await this.usage.stats(this.dataSource.manager, tenant.tenantId, { from, to, groupBy });
    return presentEventStats(from, to, groupBy, rows);
  }

  /** One event as received, with what processing made of it (processed, billed or not, or failed). */
  @Get(':id')
  @ApiOperation({ operationId: 'getUsageEvent', summary: 'Get a usage event and what processing made of it' })
  @Answer(200, UsageEventView, 'The event', { example: USAGE_EVENT_EXAMPLE })
  @ApiProblems(...PATH_PROBLEMS, 'event_not_found')
  async get(@CurrentTenant() tenant: Tenant, @Param() { id }: EventParams) {
    const event = isEventId(id) ? await this.usage.find(this.dataSource.manager, tenant.tenantId, id) : null;
    if (!event) throw new UsageEventNotFoundError(id);
    return presentUsageEvent(event);
  }
}

/** A batch's events, the envelope checked: each event is checked on its own, and refused alone. */
function batchOf(body: unknown): unknown[] {
  const checked = check(UsageBatchDto, body, '(body)', { envelope: true });
  if (checked.errors) throw new ValidationError(checked.errors);
  return checked.value.events;
}
