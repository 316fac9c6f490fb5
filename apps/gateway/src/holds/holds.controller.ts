import { Body, Controller, Get, Headers, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { HOLD_EXPIRY_SECONDS, HoldNotFoundError, hasIdPrefix } from '#domain';
import { Correlation } from '#observability';
import { HoldRepository, holdView, transactionView } from '#persistence';
import { ApiKeyGuard, type Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { sendOutcome } from '../http/outcome.js';
import { ApiError } from '#http';
import { validated } from '../http/validation.js';
import { IdempotencyService } from '../idempotency/idempotency.service.js';
import { CaptureHoldDto, CreateHoldDto, HoldParams, VoidHoldDto } from './holds.dto.js';
import { HoldsService } from './holds.service.js';

const isHoldId = (id: string) => hasIdPrefix(id, 'hold');

@Controller('v1/holds')
@UseGuards(ApiKeyGuard)
export class HoldsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(HoldRepository) private readonly holdRecords: HoldRepository,
    @Inject(HoldsService) private readonly holds: HoldsService,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiBody({ type: CreateHoldDto })
  async create(
    @CurrentTenant() tenant: Tenant,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    requireKey(key);
    const input = validated(CreateHoldDto, body ?? {});
    await this.idempotent(tenant, key, request, body, reply, async (manager) => {
      const hold = await this.holds.create(
        manager,
        tenant.tenantId,
        { ...input, expiresInSeconds: input.expiresInSeconds ?? HOLD_EXPIRY_SECONDS.default },
        Correlation.id() ?? null,
      );
      return { status: 201, body: holdView(hold), headers: { Location: `/v1/holds/${hold.id}` } };
    });
  }

  @Post(':id/capture')
  @ApiBody({ type: CaptureHoldDto, required: false })
  async capture(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: HoldParams,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    requireKey(key);
    const input = validated(CaptureHoldDto, body ?? {});
    await this.idempotent(tenant, key, request, body, reply, async (manager) => {
      if (!isHoldId(id)) throw new HoldNotFoundError(id);
      const t = await this.holds.capture(
        manager,
        tenant.tenantId,
        id,
        input.amount ?? null,
        Correlation.id() ?? null,
      );
      return { status: 202, body: transactionView(t), headers: { Location: `/v1/transactions/${t.id}` } };
    });
  }

  @Post(':id/void')
  @ApiBody({ type: VoidHoldDto, required: false })
  async void(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: HoldParams,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    requireKey(key);
    validated(VoidHoldDto, body ?? {});
    await this.idempotent(tenant, key, request, body, reply, async (manager) => {
      if (!isHoldId(id)) throw new HoldNotFoundError(id);
      const hold = await this.holds.void(manager, tenant.tenantId, id);
      return { status: 200, body: holdView(hold), headers: {} };
    });
  }

  @Get(':id')
  async get(@CurrentTenant() tenant: Tenant, @Param() { id }: HoldParams) {
    const hold = isHoldId(id)
      ? await this.holdRecords.find(this.dataSource.manager, tenant.tenantId, id)
      : null;
    if (!hold) throw new HoldNotFoundError(id);
    return holdView(hold);
  }

  private async idempotent(
    tenant: Tenant,
    key: string,
    request: FastifyRequest,
    body: unknown,
    reply: FastifyReply,
    work: Parameters<IdempotencyService['execute']>[1],
  ): Promise<void> {
    const outcome = await this.idempotency.execute(
      { tenantId: tenant.tenantId, key, required: true, method: 'POST', path: request.url, body },
      work,
    );
    sendOutcome(reply, outcome);
  }
}

function requireKey(key: string | undefined): asserts key is string {
  if (key === undefined) {
    throw new ApiError(400, 'idempotency_key_required', 'POST /v1/holds… needs an Idempotency-Key header.');
  }
}
