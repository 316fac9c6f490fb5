import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { pageOf } from '../http/page.js';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, BODY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { ReasonBody } from '../http/reason.dto.js';
import { RedeliverWebhook } from './redeliver-webhook.use-case.js';
import { WebhookLogRepository } from './webhook-log.repository.js';
import {
  DeliveryList,
  DeliveryListQuery,
  DeliveryParams,
  EndpointList,
  EndpointListQuery,
  RedeliveredView,
} from './webhooks.dto.js';

/** Webhook endpoints and deliveries across tenants; redelivering one. */
@ApiTags('Webhooks')
@Controller('admin/api')
@UseGuards(RolesGuard)
export class WebhooksController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(WebhookLogRepository) private readonly webhooks: WebhookLogRepository,
    @Inject(RedeliverWebhook) private readonly redeliverDelivery: RedeliverWebhook,
  ) {}

  @Get('webhook-endpoints')
  @Needs('viewer')
  @ApiOperation({
    summary: 'Webhook endpoints',
    description: 'With their failed and pending deliveries counted.',
  })
  @ApiOkResponse({ type: EndpointList })
  @ApiProblems(...QUERY_PROBLEMS)
  async endpoints(@Query() q: EndpointListQuery): Promise<EndpointList> {
    const limit = q.limit ?? 100;
    return pageOf(await this.webhooks.endpoints(this.dataSource.manager, { ...q, limit: limit + 1 }), limit);
  }

  @Get('webhook-deliveries')
  @Needs('viewer')
  @ApiOperation({ summary: 'Webhook deliveries', description: 'Newest first.' })
  @ApiOkResponse({ type: DeliveryList })
  @ApiProblems(...QUERY_PROBLEMS)
  async deliveries(@Query() q: DeliveryListQuery): Promise<DeliveryList> {
    const limit = q.limit ?? 100;
    return pageOf(await this.webhooks.deliveries(this.dataSource.manager, { ...q, limit: limit + 1 }), limit);
  }

  @Post('webhook-deliveries/:id/redeliver')
  @Needs('operator')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a delivery again', description: 'From the start of its schedule.' })
  @ApiAcceptedResponse({ type: RedeliveredView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS)
  async redeliver(
    @CurrentOperator() operator: Operator,
    @Param() { id }: DeliveryParams,
    @Body() { reason }: ReasonBody,
  ): Promise<RedeliveredView> {
    return this.redeliverDelivery.execute(operator, id, reason);
  }
}
