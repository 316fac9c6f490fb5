import { Body, Controller, Get, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { ApiError } from '#http';
import { ApiProblems, BODY_PROBLEMS } from '../docs/problems.js';
import { AuthService, type Operator } from './auth.service.js';
import {
  CreateOperatorBody,
  LoginBody,
  OperatorList,
  OperatorView,
  RefreshBody,
  TokensView,
} from './auth.dto.js';
import { LoginThrottle } from './login-throttle.js';
import { OperatorRepository } from './operator.repository.js';
import { CurrentOperator, Needs, Public, RolesGuard } from './roles.guard.js';

@ApiTags('Operators and sessions')
@Controller('admin/api')
@UseGuards(RolesGuard)
export class AuthController {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OperatorRepository) private readonly operators: OperatorRepository,
    @Inject(LoginThrottle) private readonly throttle: LoginThrottle,
  ) {}

  @Post('auth/login')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in',
    description:
      'Answers an access token and a refresh token. Failed sign-ins per account, and attempts per ' +
      'client address, are limited (429 `rate_limited` with Retry-After).',
  })
  @ApiOkResponse({ type: TokensView })
  @ApiProblems(...BODY_PROBLEMS, 'unauthorized', 'rate_limited')
  async login(@Body() input: LoginBody, @Req() request: FastifyRequest): Promise<TokensView> {
    await this.throttle.admit(input.email, request.ip);
    let wrongPassword = false;
    try {
      return await this.auth.login(input.email, input.password);
    } catch (error) {
      wrongPassword = error instanceof ApiError && error.status === 401;
      throw error;
    } finally {
      await this.throttle.settle(input.email, wrongPassword);
    }
  }

  @Post('auth/refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Spend a refresh token for a new pair',
    description: 'A spent token presented again means it leaked: its whole session is revoked (401).',
  })
  @ApiOkResponse({ type: TokensView })
  @ApiProblems(...BODY_PROBLEMS, 'unauthorized')
  async refresh(@Body() input: RefreshBody): Promise<TokensView> {
    return this.auth.refresh(input.refreshToken);
  }

  @Post('auth/logout')
  @Public()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Sign out',
    description: 'Ends the session of this refresh token, access tokens included.',
  })
  @ApiNoContentResponse({ description: 'Signed out (also when the token was unknown).' })
  @ApiProblems(...BODY_PROBLEMS)
  async logout(@Body() input: RefreshBody): Promise<void> {
    await this.auth.logout(input.refreshToken);
  }

  @Get('me')
  @Needs('viewer')
  @ApiOperation({ summary: 'The signed-in operator', description: 'As the operators table says now.' })
  @ApiOkResponse({ type: OperatorView })
  me(@CurrentOperator() operator: Operator): OperatorView {
    return operator;
  }

  @Get('operators')
  @Needs('admin')
  @ApiOperation({ summary: 'Operators' })
  @ApiOkResponse({ type: OperatorList })
  async list(): Promise<OperatorList> {
    return { data: await this.operators.list(this.dataSource.manager) };
  }

  @Post('operators')
  @Needs('admin')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an operator', description: 'Audited (`operator.create`).' })
  @ApiCreatedResponse({ type: OperatorView })
  @ApiProblems(...BODY_PROBLEMS, 'operator_exists')
  async createOperator(
    @CurrentOperator() actor: Operator,
    @Body() input: CreateOperatorBody,
  ): Promise<OperatorView> {
    return this.auth.createOperator(actor.id, input.email, input.password, input.role);
  }
}
