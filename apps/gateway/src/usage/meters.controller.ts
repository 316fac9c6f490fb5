import { Body, Controller, Get, Inject, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Answer, REPLAYED } from '../docs/operations.js';
import { ApiProblems, BODY_PROBLEMS, KEY_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { DataSource } from 'typeorm';
import { hasIdPrefix } from '#domain';
import { MeterRepository } from '#persistence';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { Idempotent, idempotentWrite, type IdempotentWrite } from '../idempotency/idempotent.js';
import { CreateMeterDto, ListMetersQuery, METER_EXAMPLE, MeterPage, MeterView } from './usage.dto.js';
import { presentMeter } from './usage.presenter.js';

@ApiTags('Usage')
@Controller('v1/meters')
export class MetersController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MeterRepository) private readonly meters: MeterRepository,
  ) {}

  @Post()
  @ApiOperation({
    operationId: 'createMeter',
    summary: 'Price an event type',
    description:
      'One meter per event type. From then on each processed event of that type is priced quantity × `unitPrice` ' +
      '(quantity: 1 for `count`; for `sum`, `property` written as a JSON integer ≥ 0 — a float such as 1.0, 2e0 ' +
      'or 1.5 fails the event `invalid_quantity`) and charged to its account.',
  })
  @Idempotent({ required: false })
  @ApiBody({
    type: CreateMeterDto,
    examples: {
      sum: {
        summary: 'sum',
        value: {
          eventType: 'api.call',
          aggregation: 'sum',
          property: 'tokens',
          unitPrice: 2,
          currency: 'USD',
        },
      },
      count: {
        summary: 'count',
        value: { eventType: 'report.export', aggregation: 'count', unitPrice: 50, currency: 'USD' },
      },
    },
  })
  @Answer(201, MeterView, 'Created', { example: METER_EXAMPLE, headers: REPLAYED })
  @ApiProblems(...BODY_PROBLEMS, 'meter_exists', ...KEY_PROBLEMS)
  create(@CurrentTenant() tenant: Tenant, @Body() input: CreateMeterDto): IdempotentWrite {
    return idempotentWrite(async (manager) => {
      const meter = await this.meters.create(manager, {
        tenantId: tenant.tenantId,
        eventType: input.eventType,
        aggregation: input.aggregation,
        property: input.aggregation === 'sum' ? input.property! : null,
        unitPrice: input.unitPrice,
        currency: input.currency,
      });
      return { status: 201, body: presentMeter(meter), headers: {} };
    });
  }

  @Get()
  @ApiOperation({ operationId: 'listMeters', summary: 'List meters, newest first' })
  @Answer(200, MeterPage, 'A page of meters', { example: { data: [METER_EXAMPLE], nextCursor: null } })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@CurrentTenant() tenant: Tenant, @Query() q: ListMetersQuery) {
    const limit = q.limit ?? 20;
    const rows = await this.meters.list(this.dataSource.manager, tenant.tenantId, {
      before: decodeCursor(q.cursor, (id) => hasIdPrefix(id, 'mtr')),
      limit: limit + 1,
    });
    return pageOf(rows, limit, (m) => m.id, presentMeter);
  }
}
