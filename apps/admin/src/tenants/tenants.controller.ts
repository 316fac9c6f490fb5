import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { pageOf } from '../http/page.js';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, BODY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { notFound } from '../http/errors.js';
import { ReasonBody } from '../http/reason.dto.js';
import { CreateApiKey } from './create-api-key.use-case.js';
import { CreateTenant } from './create-tenant.use-case.js';
import { RevokeApiKey } from './revoke-api-key.use-case.js';
import { SetNotificationEmail } from './set-notification-email.use-case.js';
import { SetTenantStatus } from './set-tenant-status.use-case.js';
import { TenantRepository } from './tenant.repository.js';
import {
  ApiKeyList,
  ApiKeyParams,
  CreateApiKeyBody,
  CreateTenantBody,
  CreatedApiKeyView,
  CreatedTenantView,
  NotificationEmailBody,
  NotificationEmailView,
  RevokedApiKeyView,
  TenantList,
  TenantListQuery,
  TenantParams,
  TenantStatusView,
} from './tenants.dto.js';

/** Tenants and their API keys. Every change is audited in its own transaction. */
@ApiTags('Tenants and API keys')
@Controller('admin/api/tenants')
@UseGuards(RolesGuard)
export class TenantsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TenantRepository) private readonly tenants: TenantRepository,
    @Inject(CreateTenant) private readonly createTenant: CreateTenant,
    @Inject(SetTenantStatus) private readonly setTenantStatus: SetTenantStatus,
    @Inject(SetNotificationEmail) private readonly setEmail: SetNotificationEmail,
    @Inject(CreateApiKey) private readonly createApiKey: CreateApiKey,
    @Inject(RevokeApiKey) private readonly revokeApiKey: RevokeApiKey,
  ) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({ summary: 'Tenants', description: 'Newest first, a page at a time.' })
  @ApiOkResponse({ type: TenantList })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@Query() q: TenantListQuery): Promise<TenantList> {
    const limit = q.limit ?? 100;
    return pageOf(await this.tenants.list(this.dataSource.manager, { ...q, limit: limit + 1 }), limit);
  }

  @Post()
  @Needs('operator')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create a tenant',
    description: 'With its first API key, shown in the answer only.',
  })
  @ApiCreatedResponse({ type: CreatedTenantView })
  @ApiProblems(...BODY_PROBLEMS)
  async create(
    @CurrentOperator() operator: Operator,
    @Body() input: CreateTenantBody,
  ): Promise<CreatedTenantView> {
    return this.createTenant.execute(operator, input);
  }

  @Post(':id/disable')
  @Needs('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disable a tenant', description: 'Its API keys are refused from then on.' })
  @ApiOkResponse({ type: TenantStatusView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS)
  async disable(
    @CurrentOperator() operator: Operator,
    @Param() { id }: TenantParams,
    @Body() { reason }: ReasonBody,
  ): Promise<TenantStatusView> {
    return this.setTenantStatus.execute(operator, id, 'disabled', reason);
  }

  @Post(':id/enable')
  @Needs('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Enable a tenant again' })
  @ApiOkResponse({ type: TenantStatusView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS)
  async enable(
    @CurrentOperator() operator: Operator,
    @Param() { id }: TenantParams,
    @Body() { reason }: ReasonBody,
  ): Promise<TenantStatusView> {
    return this.setTenantStatus.execute(operator, id, 'active', reason);
  }

  @Put(':id/notification-email')
  @Needs('operator')
  @ApiOperation({ summary: "Set where the tenant's alerts are mailed" })
  @ApiOkResponse({ type: NotificationEmailView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS)
  async setNotificationEmail(
    @CurrentOperator() operator: Operator,
    @Param() { id }: TenantParams,
    @Body() input: NotificationEmailBody,
  ): Promise<NotificationEmailView> {
    return this.setEmail.execute(operator, id, input.notificationEmail);
  }

  @Get(':id/keys')
  @Needs('viewer')
  @ApiOperation({
    summary: "A tenant's API keys",
    description: 'Never the keys themselves: they are shown once.',
  })
  @ApiOkResponse({ type: ApiKeyList })
  @ApiProblems(...PATH_PROBLEMS)
  async keys(@Param() { id }: TenantParams): Promise<ApiKeyList> {
    const keys = await this.tenants.keysOf(this.dataSource.manager, id);
    if (!keys) throw notFound(`Tenant ${id}`);
    return { data: keys };
  }

  @Post(':id/keys')
  @Needs('operator')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key', description: 'The key is in the answer, and nowhere else.' })
  @ApiCreatedResponse({ type: CreatedApiKeyView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS)
  async createKey(
    @CurrentOperator() operator: Operator,
    @Param() { id }: TenantParams,
    @Body() input: CreateApiKeyBody,
  ): Promise<CreatedApiKeyView> {
    return this.createApiKey.execute(operator, id, input.name ?? null);
  }

  @Post(':id/keys/:keyId/revoke')
  @Needs('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key' })
  @ApiOkResponse({ type: RevokedApiKeyView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS)
  async revokeKey(
    @CurrentOperator() operator: Operator,
    @Param() { id, keyId }: ApiKeyParams,
    @Body() { reason }: ReasonBody,
  ): Promise<RevokedApiKeyView> {
    return this.revokeApiKey.execute(operator, id, keyId, reason);
  }
}
