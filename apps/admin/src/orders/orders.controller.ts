import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { OrderRepository, type OrderRecord } from '#persistence';
import { Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { pageOf } from '../http/page.js';
import { OrderDetail, presentOrder } from './order-detail.js';
import { OrderDetailView, OrderPage, OrderParams, OrderSearchQuery } from './orders.dto.js';

/** Operators' view of the tenants' orders, read-only. */
@ApiTags('Orders')
@Controller('admin/api/orders')
@UseGuards(RolesGuard)
export class OrdersController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OrderRepository) private readonly orders: OrderRepository,
    @Inject(OrderDetail) private readonly details: OrderDetail,
  ) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({
    summary: 'Search orders',
    description: 'Across tenants unless `tenantId` names one, newest first; `before` pages.',
  })
  @ApiOkResponse({ type: OrderPage })
  @ApiProblems(...QUERY_PROBLEMS)
  async search(@Query() q: OrderSearchQuery) {
    const limit = q.limit ?? 50;
    const rows = await this.orders.search(this.dataSource.manager, {
      ...q,
      status: q.status as OrderRecord['status'] | undefined,
      limit: limit + 1,
    });
    const page = pageOf(rows, limit);
    return { ...page, data: page.data.map(presentOrder) };
  }

  @Get(':id')
  @Needs('viewer')
  @ApiOperation({
    summary: 'One order',
    description:
      'With its wallet hold, its capture transaction, its `order.*` events in the order written, and ' +
      'its receipt once completed.',
  })
  @ApiOkResponse({ type: OrderDetailView })
  @ApiProblems(...PATH_PROBLEMS)
  async detail(@Param() { id }: OrderParams) {
    return this.details.of(id);
  }
}
