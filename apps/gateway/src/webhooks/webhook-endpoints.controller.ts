import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Answer, REPLAYED, location } from '../docs/operations.js';
import { ApiProblems, BODY_PROBLEMS, KEY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { DataSource } from 'typeorm';
import {
  SECRET_ROTATION_OVERLAP_MS,
  WebhookDeliveryNotFoundError,
  WebhookEndpointNotFoundError,
  hasIdPrefix,
  newWebhookSecret,
} from '#domain';
import { WebhookRepository, type DeliveryRecord, type WebhookEndpointRecord } from '#persistence';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { Idempotent, idempotentWrite, type IdempotentWrite } from '../idempotency/idempotent.js';
import {
  CreateEndpointDto,
  DELIVERY_EXAMPLE,
  DELIVERY_ID,
  DeliveryParams,
  ENDPOINT_EXAMPLE,
  ENDPOINT_ID,
  RecoveredView,
  RetriedDeliveryView,
  SECRET_EXAMPLE,
  SECRET_EXAMPLE_2,
  WebhookDeliveryPage,
  WebhookEndpointPage,
  WebhookEndpointView,
  WebhookEndpointWithSecretView,
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

/** Webhook endpoints (docs/api.md, Webhooks): the secret is shown at creation and rotation only. */
@ApiTags('Webhooks')
@Controller('v1/webhook-endpoints')
export class WebhookEndpointsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(WebhookRepository) private readonly webhooks: WebhookRepository,
    @Inject(WebhookUrlPolicy) private readonly urls: WebhookUrlPolicy,
  ) {}

  @Post()
  @ApiOperation({
    operationId: 'createWebhookEndpoint',
    summary: 'Register a webhook endpoint',
    description:
      'The URL is checked before answering (see `webhook_url_refused`). The answer carries the signing `secret` (`whsec_…`): ' +
      'it is shown here and on rotation only, so keep it. From then on every event of the subscribed types is POSTed to the URL, signed with it.',
  })
  @Idempotent({ required: false })
  @ApiBody({
    type: CreateEndpointDto,
    examples: {
      some: {
        summary: 'Some event types',
        value: {
          url: 'https://example.com/hooks/tally',
          eventTypes: ['transaction.succeeded', 'transaction.failed'],
          description: 'Production receiver',
        },
      },
      all: { summary: 'Every event type', value: { url: 'https://example.com/hooks/tally' } },
    },
  })
  @Answer(201, WebhookEndpointWithSecretView, 'Created; `secret` is shown this once', {
    example: { ...ENDPOINT_EXAMPLE, secret: SECRET_EXAMPLE },
    headers: { ...location(`/v1/webhook-endpoints/${ENDPOINT_ID}`), ...REPLAYED },
  })
  @ApiProblems(...BODY_PROBLEMS, 'webhook_url_refused', ...KEY_PROBLEMS)
  async create(@CurrentTenant() tenant: Tenant, @Body() input: CreateEndpointDto): Promise<IdempotentWrite> {
    // DNS first, bounded by its own timeout, and outside the transaction: the host's name servers
    // are the tenant's, and a lookup that never ends must not hold a database connection. A
    // refusal is still the key's answer, given inside.
    const checked = await this.urls.check(input.url).then(
      (url) => ({ url }),
      (refusal: unknown) => ({ refusal }),
    );
    return idempotentWrite(async (manager) => {
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
  @ApiOperation({
    operationId: 'listWebhookEndpoints',
    summary: 'List webhook endpoints, newest first',
    description: 'Enabled and disabled ones; deleted ones are gone. Secrets are never listed.',
  })
  @Answer(200, WebhookEndpointPage, 'A page of endpoints', {
    example: { data: [ENDPOINT_EXAMPLE], nextCursor: null },
  })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@CurrentTenant() tenant: Tenant, @Query() q: ListEndpointsQuery) {
    const limit = q.limit ?? 20;
    const rows = await this.webhooks.listEndpoints(this.dataSource.manager, tenant.tenantId, {
      before: decodeCursor(q.cursor, isEndpointId),
      limit: limit + 1,
    });
    return pageOf(rows, limit, (e) => e.id, presentEndpoint);
  }

  @Get(':id')
  @ApiOperation({
    operationId: 'getWebhookEndpoint',
    summary: 'Get a webhook endpoint',
    description: 'Without its secret.',
  })
  @Answer(200, WebhookEndpointView, 'The endpoint', { example: ENDPOINT_EXAMPLE })
  @ApiProblems(...PATH_PROBLEMS, 'webhook_endpoint_not_found')
  async get(@CurrentTenant() tenant: Tenant, @Param() { id }: EndpointParams) {
    return presentEndpoint(await this.load(tenant, id));
  }

  @Patch(':id')
  @ApiOperation({
    operationId: 'updateWebhookEndpoint',
    summary: 'Change, disable or enable a webhook endpoint',
    description:
      'Only the fields sent change (`description: null` clears it). A new `url` is checked like at creation. ' +
      '`status: "disabled"` stops deliveries (pending ones wait; new events are not delivered to it) with `disabledReason` "disabled by the tenant"; ' +
      '`status: "enabled"` resumes them, clears `disabledReason` and the failure streak that counts towards automatic disabling.',
  })
  @ApiBody({
    type: UpdateEndpointDto,
    examples: {
      enable: { summary: 'Enable again after it was disabled', value: { status: 'enabled' } },
      change: {
        summary: 'Move and subscribe to every event type',
        value: { url: 'https://hooks.example.com/tally', eventTypes: [], description: null },
      },
    },
  })
  @Answer(200, WebhookEndpointView, 'Changed', { example: ENDPOINT_EXAMPLE })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS, 'webhook_endpoint_not_found', 'webhook_url_refused')
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
  @ApiOperation({
    operationId: 'deleteWebhookEndpoint',
    summary: 'Delete a webhook endpoint',
    description:
      'Nothing more is delivered to it, including deliveries still pending; it is no longer listed or found.',
  })
  @Answer(204, null, 'Deleted')
  @ApiProblems(...PATH_PROBLEMS, 'webhook_endpoint_not_found')
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
  @ApiOperation({
    operationId: 'rotateWebhookSecret',
    summary: "Rotate a webhook endpoint's signing secret",
    description:
      'Answers the endpoint with a new `secret`, shown this once. For 24 hours the previous secret signs too: `webhook-signature` carries both ' +
      'signatures, separated by a space (`v1,<new> v1,<previous>`), so the receiver can switch secrets without missing a delivery. ' +
      'Send an `Idempotency-Key`: a rotation retried under it answers the same secret (a second rotation would end the overlap of the secret the receiver has). ' +
      'No body needed; one sent is ignored.',
  })
  @Idempotent({ required: false })
  @ApiBody({
    required: false,
    description: 'No body needed; one sent is ignored.',
    schema: { type: 'object' },
    examples: { none: { summary: 'No body', value: {} } },
  })
  @Answer(200, WebhookEndpointWithSecretView, 'Rotated; the new `secret` is shown this once', {
    example: { ...ENDPOINT_EXAMPLE, secret: SECRET_EXAMPLE_2, updatedAt: '2026-11-28T09:30:00.000Z' },
    headers: REPLAYED,
  })
  @ApiProblems(
    ...PATH_PROBLEMS,
    'webhook_endpoint_not_found',
    'invalid_json',
    'payload_too_large',
    'unsupported_media_type',
    ...KEY_PROBLEMS,
  )
  async rotate(@CurrentTenant() tenant: Tenant, @Param() { id }: EndpointParams): Promise<IdempotentWrite> {
    // Under its key, a retried rotation answers the secret the first one made, instead of making
    // another and dropping the one the receiver still has from the overlap.
    return idempotentWrite(async (manager) => {
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
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: "List an endpoint's deliveries and their attempts, newest first",
    description:
      'One delivery per event sent to this endpoint, with every attempt: when, the status code (null when there was no answer), latency, ' +
      'the start of the response body, and the error.',
  })
  @Answer(200, WebhookDeliveryPage, 'A page of deliveries', {
    example: { data: [DELIVERY_EXAMPLE], nextCursor: null },
  })
  @ApiProblems(...PATH_PROBLEMS, ...QUERY_PROBLEMS, 'webhook_endpoint_not_found')
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
  @ApiOperation({
    operationId: 'retryWebhookDelivery',
    summary: 'Send a delivery again',
    description:
      'The delivery goes back to `pending`, due now, and starts the retry schedule afresh; the receiver sees the same `webhook-id`. ' +
      'Usually for a `failed` delivery; it is sent only while the endpoint is enabled. No body needed; one sent is ignored.',
  })
  @Idempotent({ required: false })
  @ApiBody({
    required: false,
    description: 'No body needed; one sent is ignored.',
    schema: { type: 'object' },
    examples: { none: { summary: 'No body', value: {} } },
  })
  @Answer(202, RetriedDeliveryView, 'Accepted; the delivery is sent again in the background', {
    example: { id: DELIVERY_ID, status: 'pending' },
    headers: REPLAYED,
  })
  @ApiProblems(
    ...PATH_PROBLEMS,
    'webhook_endpoint_not_found',
    'webhook_delivery_not_found',
    'invalid_json',
    'payload_too_large',
    'unsupported_media_type',
    ...KEY_PROBLEMS,
  )
  async retry(
    @CurrentTenant() tenant: Tenant,
    @Param() { id, deliveryId }: DeliveryParams,
  ): Promise<IdempotentWrite> {
    return idempotentWrite(async (manager) => {
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
  @ApiOperation({
    operationId: 'recoverWebhookDeliveries',
    summary: 'Send again every delivery that failed since a time',
    description:
      'Every delivery to this endpoint created at or after `since` that ended `failed` goes back to `pending`, due now, with a fresh retry schedule ' +
      '(the same `webhook-id` each). For after an outage of the receiver, or once a disabled endpoint is enabled again.',
  })
  @Idempotent({ required: false })
  @ApiBody({ type: RecoverDto, examples: { since: { value: { since: '2026-11-20T00:00:00Z' } } } })
  @Answer(202, RecoveredView, 'Accepted; the failed deliveries are sent again in the background', {
    example: { recovered: 12 },
    headers: REPLAYED,
  })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS, 'webhook_endpoint_not_found', ...KEY_PROBLEMS)
  async recover(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: EndpointParams,
    @Body() input: RecoverDto,
  ): Promise<IdempotentWrite> {
    return idempotentWrite(async (manager) => {
      await this.load(tenant, id, manager);
      const recovered = await this.webhooks.recover(manager, tenant.tenantId, id, new Date(input.since));
      return { status: 202, body: { recovered }, headers: {} };
    });
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
