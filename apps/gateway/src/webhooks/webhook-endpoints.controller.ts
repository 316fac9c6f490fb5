import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import {
  SECRET_ROTATION_OVERLAP_MS,
  WebhookDeliveryNotFoundError,
  WebhookEndpointNotFoundError,
  hasIdPrefix,
  newWebhookSecret,
} from '#domain';
import { WebhookRepository, type DeliveryRecord, type WebhookEndpointRecord } from '#persistence';
import { ApiKeyGuard, type Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { sendOutcome } from '../http/outcome.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import {
  CreateEndpointDto,
  DeliveryParams,
  EndpointParams,
  ListEndpointsQuery,
  RecoverDto,
  UpdateEndpointDto,
} from './webhook-endpoints.dto.js';
import { WebhookUrlPolicy } from './webhook-url.policy.js';

const isEndpointId = (id: string) => hasIdPrefix(id, 'whe');

function presentEndpoint(e: WebhookEndpointRecord) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    eventTypes: e.eventTypes,
    status: e.status,
    disabledReason: e.disabledReason,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

function presentDelivery(d: DeliveryRecord & { attemptLog: unknown[] }) {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attemptLog,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    createdAt: d.createdAt.toISOString(),
    completedAt: d.completedAt?.toISOString() ?? null,
  };
}

/** Webhook endpoints (API.md, Webhooks): the secret is shown at creation and rotation only. */
@Controller('v1/webhook-endpoints')
@UseGuards(ApiKeyGuard)
export class WebhookEndpointsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(WebhookRepository) private readonly webhooks: WebhookRepository,
    @Inject(WebhookUrlPolicy) private readonly urls: WebhookUrlPolicy,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  async create(
    @CurrentTenant() tenant: Tenant,
    @Body() input: CreateEndpointDto,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    // DNS first, bounded by its own timeout, and outside the transaction: the host's name servers
    // are the tenant's, and a lookup that never ends must not hold a database connection. A
    // refusal is still the key's answer, given inside.
    const checked = await this.urls.check(input.url).then(
      (url) => ({ url }),
      (refusal: unknown) => ({ refusal }),
    );
    await this.idempotent(tenant, key, request, reply, async (manager) => {
      if ('refusal' in checked) throw checked.refusal;
      const endpoint = await this.webhooks.createEndpoint(manager, {
        tenantId: tenant.tenantId,
        url: checked.url,
        description: input.description ?? null,
        eventTypes: [...new Set(input.eventTypes ?? [])],
        secret: newWebhookSecret(),
      });
      return {
        status: 201,
        body: { ...presentEndpoint(endpoint), secret: endpoint.secret },
        headers: { Location: `/v1/webhook-endpoints/${endpoint.id}` },
        secret: true,
      };
    });
  }

  @Get()
  async list(@CurrentTenant() tenant: Tenant, @Query() q: ListEndpointsQuery) {
    const limit = q.limit ?? 20;
    const rows = await this.webhooks.listEndpoints(this.dataSource.manager, tenant.tenantId, {
      before: decodeCursor(q.cursor, isEndpointId),
      limit: limit + 1,
    });
    return pageOf(rows, limit, (e) => e.id, presentEndpoint);
  }

  @Get(':id')
  async get(@CurrentTenant() tenant: Tenant, @Param() { id }: EndpointParams) {
    return presentEndpoint(await this.load(tenant, id));
  }

  @Patch(':id')
  async update(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: EndpointParams,
    @Body() input: UpdateEndpointDto,
  ) {
    await this.load(tenant, id);
    const updated = await this.webhooks.updateEndpoint(this.dataSource.manager, tenant.tenantId, id, {
      ...input,
      url: input.url === undefined ? undefined : await this.urls.check(input.url),
      eventTypes: input.eventTypes === undefined ? undefined : [...new Set(input.eventTypes)],
    });
    if (!updated) throw new WebhookEndpointNotFoundError(id);
    return presentEndpoint(updated);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentTenant() tenant: Tenant, @Param() { id }: EndpointParams) {
    if (
      !isEndpointId(id) ||
      !(await this.webhooks.deleteEndpoint(this.dataSource.manager, tenant.tenantId, id))
    ) {
      throw new WebhookEndpointNotFoundError(id);
    }
  }

  /** A new secret, shown once; for 24 hours both sign (space-separated `v1,` signatures). */
  @Post(':id/rotate-secret')
  async rotate(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: EndpointParams,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    // Under its key, a retried rotation answers the secret the first one made, instead of making
    // another and dropping the one the receiver still has from the overlap.
    await this.idempotent(tenant, key, request, reply, async (manager) => {
      await this.load(tenant, id, manager);
      const rotated = await this.webhooks.rotateSecret(
        manager,
        tenant.tenantId,
        id,
        newWebhookSecret(),
        SECRET_ROTATION_OVERLAP_MS,
      );
      if (!rotated) throw new WebhookEndpointNotFoundError(id);
      return {
        status: 200,
        body: { ...presentEndpoint(rotated), secret: rotated.secret },
        headers: {},
        secret: true,
      };
    });
  }

  @Get(':id/deliveries')
  async deliveries(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: EndpointParams,
    @Query() q: ListEndpointsQuery,
  ) {
    await this.load(tenant, id);
    const limit = q.limit ?? 20;
    const rows = await this.webhooks.listDeliveries(this.dataSource.manager, tenant.tenantId, id, {
      before: decodeCursor(q.cursor, (p) => hasIdPrefix(p, 'dlv')),
      limit: limit + 1,
    });
    return pageOf(rows, limit, (d) => d.id, presentDelivery);
  }

  @Post(':id/deliveries/:deliveryId/retry')
  async retry(
    @CurrentTenant() tenant: Tenant,
    @Param() { id, deliveryId }: DeliveryParams,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    await this.idempotent(tenant, key, request, reply, async (manager) => {
      await this.load(tenant, id, manager);
      if (
        !hasIdPrefix(deliveryId, 'dlv') ||
        !(await this.webhooks.retry(manager, tenant.tenantId, id, deliveryId))
      ) {
        throw new WebhookDeliveryNotFoundError(deliveryId);
      }
      return { status: 202, body: { id: deliveryId, status: 'pending' }, headers: {} };
    });
  }

  /** Sends again everything to this endpoint that failed since a time. */
  @Post(':id/recover')
  async recover(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: EndpointParams,
    @Body() input: RecoverDto,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    await this.idempotent(tenant, key, request, reply, async (manager) => {
      await this.load(tenant, id, manager);
      const recovered = await this.webhooks.recover(manager, tenant.tenantId, id, new Date(input.since));
      return { status: 202, body: { recovered }, headers: {} };
    });
  }

  /** Runs a POST under its Idempotency-Key (optional here, as on every POST but the money ones). */
  private async idempotent(
    tenant: Tenant,
    key: string | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    work: Parameters<IdempotencyService['execute']>[1],
  ): Promise<void> {
    const outcome = await this.idempotency.execute(
      {
        tenantId: tenant.tenantId,
        key,
        required: false,
        method: 'POST',
        path: request.url,
        body: request.body,
      },
      work,
    );
    sendOutcome(reply, outcome);
  }

  private async load(
    tenant: Tenant,
    id: string,
    manager = this.dataSource.manager,
  ): Promise<WebhookEndpointRecord> {
    const endpoint = isEndpointId(id) ? await this.webhooks.findEndpoint(manager, tenant.tenantId, id) : null;
    if (!endpoint) throw new WebhookEndpointNotFoundError(id);
    return endpoint;
  }
}
