import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, BODY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { notFound } from '../http/errors.js';
import { pageOf } from '../http/page.js';
import { ReasonBody } from '../http/reason.dto.js';
import { DeadLetterRepository } from './dead-letter.repository.js';
import {
  DeadLetterDetailView,
  DeadLetterListQuery,
  DeadLetterPage,
  DeadLetterParams,
  DiscardedView,
  ReplayManyBody,
  ReplayedManyView,
  ReplayedView,
} from './dead-letters.dto.js';
import { DiscardDeadLetter } from './discard-dead-letter.use-case.js';
import { ReplayDeadLetters } from './replay-dead-letters.use-case.js';

/**
 * Dead letters: list and filter, inspect, replay (republished to the original exchange and routing
 * key with the same message id: the consumers' inbox makes a replay safe), or discard with a
 * reason. Every action is audited.
 */
@ApiTags('Dead letters')
@Controller('admin/api/dead-letters')
@UseGuards(RolesGuard)
export class DeadLettersController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(DeadLetterRepository) private readonly deadLetters: DeadLetterRepository,
    @Inject(ReplayDeadLetters) private readonly replays: ReplayDeadLetters,
    @Inject(DiscardDeadLetter) private readonly discards: DiscardDeadLetter,
  ) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({ summary: 'Dead letters', description: 'Newest first; `before` pages.' })
  @ApiOkResponse({ type: DeadLetterPage })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@Query() q: DeadLetterListQuery) {
    const limit = q.limit ?? 50;
    return pageOf(await this.deadLetters.list(this.dataSource.manager, { ...q, limit: limit + 1 }), limit);
  }

  @Get(':id')
  @Needs('viewer')
  @ApiOperation({ summary: 'One dead letter', description: 'With its payload, headers and error.' })
  @ApiOkResponse({ type: DeadLetterDetailView })
  @ApiProblems(...PATH_PROBLEMS)
  async get(@Param() { id }: DeadLetterParams) {
    const row = await this.deadLetters.detail(this.dataSource.manager, id);
    if (!row) throw notFound(`Dead letter ${id}`);
    return row;
  }

  @Post(':id/replay')
  @Needs('operator')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Replay a dead letter',
    description: 'Republished as it was first sent, same message id; a dead webhook delivery is sent again.',
  })
  @ApiAcceptedResponse({ type: ReplayedView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS, 'dead_letter_discarded', 'delivery_missing')
  async replay(
    @CurrentOperator() operator: Operator,
    @Param() { id }: DeadLetterParams,
    @Body() { reason }: ReasonBody,
  ): Promise<ReplayedView> {
    return this.replays.one(operator, id, reason);
  }

  @Post('replay')
  @Needs('operator')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Replay every pending dead letter matching a filter',
    description: 'At most `limit` (100).',
  })
  @ApiAcceptedResponse({ type: ReplayedManyView })
  @ApiProblems(...BODY_PROBLEMS, 'delivery_missing')
  async replayMany(
    @CurrentOperator() operator: Operator,
    @Body() input: ReplayManyBody,
  ): Promise<ReplayedManyView> {
    return this.replays.matching(operator, input.filter, input.reason, input.limit ?? 100);
  }

  @Post(':id/discard')
  @Needs('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Discard a dead letter', description: 'For good; it can no longer be replayed.' })
  @ApiOkResponse({ type: DiscardedView })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS)
  async discard(
    @CurrentOperator() operator: Operator,
    @Param() { id }: DeadLetterParams,
    @Body() { reason }: ReasonBody,
  ): Promise<DiscardedView> {
    return this.discards.execute(operator, id, reason);
  }
}
