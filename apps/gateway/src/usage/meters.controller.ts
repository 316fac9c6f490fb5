import { Body, Controller, Get, Headers, Inject, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { METER_AGGREGATIONS, hasIdPrefix } from '#domain';
import { MeterRepository } from '#persistence';
import { ApiKeyGuard, type Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { sendOutcome } from '../http/outcome.js';
import { decodeCursor, pageOf, pageQuery } from '../http/pagination.js';
import { amount, currency, validate } from '../http/validation.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { usageEvent } from './usage-event.schema.js';
import { presentMeter } from './usage.presenter.js';

const createMeter = z
  .object({
    eventType: usageEvent.shape.type,
    aggregation: z.enum(METER_AGGREGATIONS),
    property: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be a property key')
      .nullable()
      .optional(),
    unitPrice: amount,
    currency,
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.aggregation === 'sum' && !m.property) {
      ctx.addIssue({ code: 'custom', path: ['property'], message: 'a sum meter needs the property it sums' });
    }
    if (m.aggregation === 'count' && m.property) {
      ctx.addIssue({ code: 'custom', path: ['property'], message: 'a count meter takes no property' });
    }
  });

const listMeters = z.object(pageQuery).strict();

@Controller('v1/meters')
@UseGuards(ApiKeyGuard)
export class MetersController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MeterRepository) private readonly meters: MeterRepository,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  async create(
    @CurrentTenant() tenant: Tenant,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const input = validate(createMeter, body ?? {});
    const outcome = await this.idempotency.execute(
      { tenantId: tenant.tenantId, key, required: false, method: 'POST', path: request.url, body },
      async (manager) => {
        const meter = await this.meters.create(manager, {
          tenantId: tenant.tenantId,
          eventType: input.eventType,
          aggregation: input.aggregation,
          property: input.aggregation === 'sum' ? input.property! : null,
          unitPrice: input.unitPrice,
          currency: input.currency,
        });
        return { status: 201, body: presentMeter(meter), headers: {} };
      },
    );
    sendOutcome(reply, outcome);
  }

  @Get()
  async list(@CurrentTenant() tenant: Tenant, @Query() query: unknown) {
    const q = validate(listMeters, query);
    const limit = q.limit ?? 20;
    const rows = await this.meters.list(this.dataSource.manager, tenant.tenantId, {
      before: decodeCursor(q.cursor, (id) => hasIdPrefix(id, 'mtr')),
      limit: limit + 1,
    });
    return pageOf(rows, limit, (m) => m.id, presentMeter);
  }
}
