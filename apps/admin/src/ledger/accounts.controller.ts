import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { ApiError, ValidationError } from '#http';
import { pageOf } from '../http/page.js';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, BODY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { notFound } from '../http/errors.js';
import { ReasonBody } from '../http/reason.dto.js';
import {
  AccountDetailView,
  AccountList,
  AccountListQuery,
  AccountParams,
  AccountStatusView,
  AdjustmentBody,
} from './accounts.dto.js';
import { Adjustments } from './adjustments.js';
import { AdjustmentAnswerView } from './adjustments.dto.js';
import { CustomerAccountRepository } from './customer-account.repository.js';
import { SetAccountStatus } from './set-account-status.use-case.js';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Customer accounts across tenants: inspect, freeze and unfreeze, adjust balances (through the worker). */
@ApiTags('Accounts')
@Controller('admin/api/accounts')
@UseGuards(RolesGuard)
export class AccountsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(CustomerAccountRepository) private readonly accounts: CustomerAccountRepository,
    @Inject(SetAccountStatus) private readonly setStatus: SetAccountStatus,
    @Inject(Adjustments) private readonly adjustments: Adjustments,
  ) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({ summary: 'Customer accounts', description: 'Newest first, a page at a time.' })
  @ApiOkResponse({ type: AccountList })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@Query() q: AccountListQuery): Promise<AccountList> {
    const limit = q.limit ?? 100;
    return pageOf(await this.accounts.list(this.dataSource.manager, { ...q, limit: limit + 1 }), limit);
  }

  @Get(':id')
  @Needs('viewer')
  @ApiOperation({ summary: 'One account', description: 'With its latest ledger entries.' })
  @ApiOkResponse({ type: AccountDetailView })
  @ApiProblems(...PATH_PROBLEMS)
  async account(@Param() { id }: AccountParams): Promise<AccountDetailView> {
    const account = await this.accounts.find(this.dataSource.manager, id);
    if (!account) throw notFound(`Account ${id}`);
    return { ...account, entries: await this.accounts.recentEntries(this.dataSource.manager, id) };
  }

  @Post(':id/freeze')
  @Needs('operator')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Freeze an account',
    description: 'No money moves in or out until it is unfrozen.',
  })
  @ApiOkResponse({ type: AccountStatusView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS)
  async freeze(
    @CurrentOperator() operator: Operator,
    @Param() { id }: AccountParams,
    @Body() { reason }: ReasonBody,
  ): Promise<AccountStatusView> {
    return this.setStatus.execute(operator, id, 'frozen', reason);
  }

  @Post(':id/unfreeze')
  @Needs('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Unfreeze an account' })
  @ApiOkResponse({ type: AccountStatusView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS)
  async unfreeze(
    @CurrentOperator() operator: Operator,
    @Param() { id }: AccountParams,
    @Body() { reason }: ReasonBody,
  ): Promise<AccountStatusView> {
    return this.setStatus.execute(operator, id, 'active', reason);
  }

  @Post(':id/adjustments')
  @Needs('operator')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Adjust a balance',
    description:
      "Through the ledger: the worker applies it as an `adjustment` transaction. Beyond the operator's " +
      'rolling allowance it waits for a second operator (`pending_approval`). Idempotent per operator: ' +
      'the same Idempotency-Key and body answer the first answer again (Idempotent-Replayed: true); the ' +
      'key with another body is 422.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description: 'Makes a retried request safe: 1-255 visible ASCII characters, unique per operator.',
    schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$', example: 'adj-7f3a9c21' },
  })
  @ApiAcceptedResponse({
    type: AdjustmentAnswerView,
    headers: {
      'Idempotent-Replayed': {
        description: 'Present (true) when this is the first answer to the same key, again.',
        schema: { type: 'string', enum: ['true'] },
      },
    },
  })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS, 'idempotency_key_required', 'idempotency_key_reused')
  async adjust(
    @CurrentOperator() operator: Operator,
    @Param() { id }: AccountParams,
    @Headers('idempotency-key') key: unknown,
    @Body() input: AdjustmentBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AdjustmentAnswerView> {
    const { replayed, ...answer } = await this.adjustments.request(operator, {
      accountId: id,
      ...input,
      idempotencyKey: idempotencyKeyOf(key),
    });
    if (replayed) void reply.header('idempotent-replayed', 'true');
    return answer;
  }
}

/** The Idempotency-Key header: required on an adjustment (a retried request must not adjust twice). */
function idempotencyKeyOf(key: unknown): string {
  if (key === undefined) {
    throw new ApiError(400, 'idempotency_key_required', 'An adjustment needs an Idempotency-Key header.');
  }
  if (typeof key !== 'string' || !KEY_PATTERN.test(key)) {
    throw new ValidationError([
      { field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' },
    ]);
  }
  return key;
}
