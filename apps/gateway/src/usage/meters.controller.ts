import { Body, Controller, Get, Headers, Inject, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { hasIdPrefix } from '#domain';
import { MeterRepository } from '#persistence';
import { ApiKeyGuard, type Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { sendOutcome } from '../http/outcome.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { CreateMeterDto, ListMetersQuery } from './usage.dto.js';
import { presentMeter } from './usage.presenter.js';

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
    @Body() input: CreateMeterDto,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const outcome = await this.idempotency.execute(
      {
        tenantId: tenant.tenantId,
        key,
        required: false,
        method: 'POST',
        path: request.url,
        body: request.body,
      },
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
  async list(@CurrentTenant() tenant: Tenant, @Query() q: ListMetersQuery) {
    const limit = q.limit ?? 20;
    const rows = await this.meters.list(this.dataSource.manager, tenant.tenantId, {
      before: decodeCursor(q.cursor, (id) => hasIdPrefix(id, 'mtr')),
      limit: limit + 1,
    });
    return pageOf(rows, limit, (m) => m.id, presentMeter);
  }
}
