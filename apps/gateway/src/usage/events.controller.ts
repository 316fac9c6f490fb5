import { Body, Controller, Get, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { Answer, REPLAYED } from '../docs/operations.js';
import { ApiProblems, BODY_PROBLEMS, KEY_PROBLEMS, PATH_PROBLEMS } from '../docs/problems.js';
import { DataSource } from 'typeorm';
import { AccountNotFoundError, UsageEventNotFoundError } from '#domain';
import { Correlation, Metrics } from '#observability';
import { UsageRepository } from '#persistence';
import { ApiKeyGuard, type Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { ValidationError } from '#http';
import { check, validated } from '../http/validation.js';
import { Idempotent, idempotentWrite, type IdempotentWrite } from '../idempotency/idempotent.js';
import { IngestUsage, type IngestResult, type Rejection } from './ingest-usage.use-case.js';
import {
  EventParams,
  USAGE_EVENT_EXAMPLE,
  UsageBatchDto,
  UsageEventDto,
  UsageEventView,
  UsageIngestResultView,
  isEventId,
} from './usage.dto.js';

const ACC = 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C';
import { presentUsageEvent } from './usage.presenter.js';

@ApiTags('Usage')
@Controller('v1/events')
@UseGuards(ApiKeyGuard)
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
          ],
        },
      },
    },
  })
  @Answer(202, UsageIngestResultView, 'Accepted; stored events are processed in the background', {
    example: {
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
  const checked = check(UsageBatchDto, body, '(body)', { storable: false });
  if (checked.errors) throw new ValidationError(checked.errors);
  return checked.value.events;
}
