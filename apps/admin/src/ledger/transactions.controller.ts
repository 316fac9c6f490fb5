import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, BODY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { pageOf } from '../http/page.js';
import { ReasonBody } from '../http/reason.dto.js';
import { AdjustmentAnswerView } from './adjustments.dto.js';
import { Reruns } from './reruns.js';
import { TransactionDetail } from './transaction-detail.js';
import { TransactionSearchRepository } from './transaction-search.repository.js';
import {
  TransactionDetailView,
  TransactionPage,
  TransactionParams,
  TransactionSearchQuery,
  TransactionView,
} from './transactions.dto.js';

/** Operators' view of transactions across tenants, and the re-run of a failed one. */
@ApiTags('Transactions')
@Controller('admin/api/transactions')
@UseGuards(RolesGuard)
export class TransactionsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TransactionSearchRepository) private readonly transactions: TransactionSearchRepository,
    @Inject(TransactionDetail) private readonly details: TransactionDetail,
    @Inject(Reruns) private readonly reruns: Reruns,
  ) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({
    summary: 'Search transactions',
    description: 'Across tenants, newest first; `before` pages.',
  })
  @ApiOkResponse({ type: TransactionPage })
  @ApiProblems(...QUERY_PROBLEMS)
  async search(@Query() q: TransactionSearchQuery) {
    const limit = q.limit ?? 50;
    return pageOf(await this.transactions.search(this.dataSource.manager, { ...q, limit: limit + 1 }), limit);
  }

  @Get(':id')
  @Needs('viewer')
  @ApiOperation({
    summary: 'One transaction',
    description: 'With its timeline, ledger entries, messages, dead letters and correlation id.',
  })
  @ApiOkResponse({ type: TransactionDetailView })
  @ApiProblems(...PATH_PROBLEMS)
  async detail(@Param() { id }: TransactionParams) {
    return this.details.of(id);
  }

  @Post(':id/rerun')
  @Needs('operator')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Re-run a failed transaction',
    description:
      'A failed transaction stays failed: a re-run is a new transaction with the same intent, once per ' +
      'transaction (409 `already_rerun` afterwards). An adjustment is re-run as a new adjustment request ' +
      'and answers as one (`{ id, status, transactionId }`), approval rules included.',
  })
  @ApiExtraModels(TransactionView, AdjustmentAnswerView)
  @ApiAcceptedResponse({
    description: 'The new transaction, or the adjustment request that re-runs a failed adjustment.',
    schema: {
      oneOf: [{ $ref: getSchemaPath(TransactionView) }, { $ref: getSchemaPath(AdjustmentAnswerView) }],
    },
  })
  @ApiProblems(
    ...BODY_PROBLEMS,
    ...PATH_PROBLEMS,
    'transaction_not_failed',
    'not_rerunnable',
    'already_rerun',
  )
  async rerun(
    @CurrentOperator() operator: Operator,
    @Param() { id }: TransactionParams,
    @Body() { reason }: ReasonBody,
  ) {
    const answer = await this.reruns.rerun(operator, id, reason);
    if (answer.kind === 'transaction') return answer.transaction;
    const { replayed: _, ...adjustment } = answer.adjustment;
    return adjustment;
  }
}
