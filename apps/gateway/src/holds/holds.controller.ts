import { Body, Controller, Get, Inject, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Answer, REPLAYED, location } from '../docs/operations.js';
import { ApiProblems, BODY_PROBLEMS, KEY_PROBLEMS, PATH_PROBLEMS } from '../docs/problems.js';
import { DataSource } from 'typeorm';
import { HOLD_EXPIRY_SECONDS, HoldNotFoundError, hasIdPrefix, holdView, transactionView } from '#domain';
import { Correlation } from '#observability';
import { HoldRepository } from '#persistence';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { validated } from '../http/validation.js';
import { Idempotent, idempotentWrite, type IdempotentWrite } from '../idempotency/idempotent.js';
import {
  CAPTURE_EXAMPLE,
  CaptureHoldDto,
  CreateHoldDto,
  HOLD_EXAMPLE,
  HOLD_ID,
  HoldParams,
  HoldView,
  VoidHoldDto,
} from './holds.dto.js';
import { TransactionView } from '../transactions/transactions.dto.js';
import { HoldsService } from './holds.service.js';

const isHoldId = (id: string) => hasIdPrefix(id, 'hold');

@ApiTags('Holds')
@Controller('v1/holds')
export class HoldsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(HoldRepository) private readonly holdRecords: HoldRepository,
    @Inject(HoldsService) private readonly holds: HoldsService,
  ) {}

  @Post()
  @ApiOperation({
    operationId: 'createHold',
    summary: 'Hold funds on an account',
    description:
      'Decided before answering, in one database transaction: the account is locked, its available balance (posted − held) must cover `amount`, ' +
      'and `amount` moves from available to held; `hold.created` is published. The hold lasts `expiresInSeconds`: past that it can no longer be ' +
      "captured or voided, and the worker's expiry sweep releases it (status `expired`, event `hold.expired`).",
  })
  @Idempotent({ required: true })
  @ApiBody({
    type: CreateHoldDto,
    examples: {
      hold: {
        value: { accountId: HOLD_EXAMPLE.accountId, amount: 2500, currency: 'USD', expiresInSeconds: 604800 },
      },
    },
  })
  @Answer(201, HoldView, 'Created; the amount is held', {
    example: HOLD_EXAMPLE,
    headers: { ...location(`/v1/holds/${HOLD_ID}`), ...REPLAYED },
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    'idempotency_key_required',
    'insufficient_funds',
    'account_not_found',
    'currency_mismatch',
    'account_frozen',
    ...KEY_PROBLEMS,
  )
  create(@CurrentTenant() tenant: Tenant, @Body() body: unknown): IdempotentWrite {
    const input = validated(CreateHoldDto, body ?? {});
    return idempotentWrite(async (manager) => {
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
  @ApiOperation({
    operationId: 'captureHold',
    summary: 'Capture a hold (all of it, or part)',
    description:
      'Checked before answering: the hold is active (not captured, voided, expired, nor already being captured), `amount` is at most the hold, ' +
      'and the account is not frozen. Answers a pending `capture` transaction, and the hold is then spoken for (no second capture, no void, no expiry). ' +
      "The worker posts the amount from the account to the tenant's revenue, releases the rest of the hold and marks it `captured` (`hold.captured`). " +
      'Follow the transaction at Location.',
  })
  @Idempotent({ required: true })
  @ApiBody({
    type: CaptureHoldDto,
    required: false,
    examples: {
      whole: { summary: 'The whole hold', value: {} },
      partial: { summary: 'Part of it; the rest is released', value: { amount: 2000 } },
    },
  })
  @Answer(202, TransactionView, 'Accepted; the capture is applied in the background', {
    example: CAPTURE_EXAMPLE,
    headers: { ...location(`/v1/transactions/${CAPTURE_EXAMPLE.id}`), ...REPLAYED },
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ...PATH_PROBLEMS,
    'idempotency_key_required',
    'hold_not_found',
    'hold_not_active',
    'capture_exceeds_hold',
    'account_frozen',
    ...KEY_PROBLEMS,
  )
  capture(
    @CurrentTenant() tenant: Tenant,
    @Param() { id }: HoldParams,
    @Body() body: unknown,
  ): IdempotentWrite {
    const input = validated(CaptureHoldDto, body ?? {});
    return idempotentWrite(async (manager) => {
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
  @ApiOperation({
    operationId: 'voidHold',
    summary: 'Void a hold',
    description:
      'Releases the whole hold at once, in one database transaction: the amount goes back to available, the hold ends `voided`, and `hold.voided` is published.',
  })
  @Idempotent({ required: true })
  @ApiBody({
    type: VoidHoldDto,
    required: false,
    description: 'No body, or an empty object.',
    examples: { empty: { value: {} } },
  })
  @Answer(200, HoldView, 'Voided; the amount is available again', {
    example: { ...HOLD_EXAMPLE, status: 'voided' },
    headers: REPLAYED,
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ...PATH_PROBLEMS,
    'idempotency_key_required',
    'hold_not_found',
    'hold_not_active',
    ...KEY_PROBLEMS,
  )
  void(@CurrentTenant() tenant: Tenant, @Param() { id }: HoldParams, @Body() body: unknown): IdempotentWrite {
    validated(VoidHoldDto, body ?? {});
    return idempotentWrite(async (manager) => {
      if (!isHoldId(id)) throw new HoldNotFoundError(id);
      const hold = await this.holds.void(manager, tenant.tenantId, id);
      return { status: 200, body: holdView(hold), headers: {} };
    });
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getHold', summary: 'Get a hold' })
  @Answer(200, HoldView, 'The hold', { example: HOLD_EXAMPLE })
  @ApiProblems(...PATH_PROBLEMS, 'hold_not_found')
  async get(@CurrentTenant() tenant: Tenant, @Param() { id }: HoldParams) {
    const hold = isHoldId(id)
      ? await this.holdRecords.find(this.dataSource.manager, tenant.tenantId, id)
      : null;
    if (!hold) throw new HoldNotFoundError(id);
    return holdView(hold);
  }
}
