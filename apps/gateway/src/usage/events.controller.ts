import { Body, Controller, Get, Headers, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiExtraModels, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { AccountNotFoundError, UsageEventNotFoundError } from '#domain';
import { Correlation, Metrics } from '#observability';
import { UsageRepository } from '#persistence';
import { ApiKeyGuard, type Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { sendOutcome } from '../http/outcome.js';
import { ValidationError } from '#http';
import { check, validated } from '../http/validation.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { IngestUsage, type IngestResult, type Rejection } from './ingest-usage.use-case.js';
import { EventParams, UsageBatchDto, UsageEventDto, isEventId } from './usage.dto.js';
import { presentUsageEvent } from './usage.presenter.js';

@Controller('v1/events')
@UseGuards(ApiKeyGuard)
export class EventsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(UsageRepository) private readonly usage: UsageRepository,
    @Inject(IngestUsage) private readonly ingest: IngestUsage,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {}

  /**
   * One event, or `{ "events": [...] }` (≤ 500). A batch answers per index: one bad event does not
   * sink the others. A single event that is not valid is a 400, like any bad request.
   */
  @Post()
  @ApiExtraModels(UsageEventDto, UsageBatchDto)
  @ApiBody({
    schema: { oneOf: [{ $ref: getSchemaPath(UsageEventDto) }, { $ref: getSchemaPath(UsageBatchDto) }] },
  })
  async record(
    @CurrentTenant() tenant: Tenant,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
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
    const outcome = await this.idempotency.execute(
      { tenantId: tenant.tenantId, key, required: false, method: 'POST', path: request.url, body },
      async (manager) => {
        result = await this.ingest.execute(manager, tenant, events, rejected, Correlation.id() ?? null);
        // A single event is the whole request: an unknown account is its answer.
        if (!isBatch && result.rejected.length > 0)
          throw new AccountNotFoundError(events[0].event.accountId!);
        return { status: 202, body: result, headers: {} };
      },
    );
    if (result && !outcome.replayed) {
      this.metrics.usageEventsReceived.inc({ outcome: 'accepted' }, result.accepted);
      this.metrics.usageEventsReceived.inc({ outcome: 'duplicate' }, result.duplicates);
      this.metrics.usageEventsReceived.inc({ outcome: 'rejected' }, result.rejected.length);
    }
    sendOutcome(reply, outcome);
  }

  /** One event as received, with what processing made of it (processed, billed or not, or failed). */
  @Get(':id')
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
