import { Body, Controller, Get, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { AdminError, validate } from '../http/admin-error.js';
import { AuthService, ROLES, type Operator } from './auth.service.js';
import { LoginThrottle } from './login-throttle.js';
import { CurrentOperator, Needs, Public, RolesGuard } from './roles.guard.js';

const login = z.object({ email: z.string().min(3).max(320), password: z.string().min(1).max(1000) }).strict();
const refresh = z.object({ refreshToken: z.string().min(10).max(200) }).strict();
const createOperator = z
  .object({ email: z.email(), password: z.string().min(12).max(1000), role: z.enum(ROLES) })
  .strict();

@Controller('admin/api')
@UseGuards(RolesGuard)
export class AuthController {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(LoginThrottle) private readonly throttle: LoginThrottle,
  ) {}

  @Post('auth/login')
  @Public()
  @HttpCode(200)
  async login(@Body() body: unknown, @Req() request: FastifyRequest) {
    const input = validate(login, body ?? {});
    await this.throttle.admit(input.email, request.ip);
    let wrongPassword = false;
    try {
      return await this.auth.login(input.email, input.password);
    } catch (error) {
      wrongPassword = error instanceof AdminError && error.status === 401;
      throw error;
    } finally {
      await this.throttle.settle(input.email, wrongPassword);
    }
  }

  /** Spends the refresh token and answers a new pair; a spent token again revokes the session. */
  @Post('auth/refresh')
  @Public()
  @HttpCode(200)
  async refresh(@Body() body: unknown) {
    return this.auth.refresh(validate(refresh, body ?? {}).refreshToken);
  }

  @Post('auth/logout')
  @Public()
  @HttpCode(204)
  async logout(@Body() body: unknown) {
    await this.auth.logout(validate(refresh, body ?? {}).refreshToken);
  }

  @Get('me')
  @Needs('viewer')
  me(@CurrentOperator() operator: Operator) {
    return operator;
  }

  @Get('operators')
  @Needs('admin')
  async operators() {
    const rows = await this.dataSource.query(
      `SELECT id, email, role, status, created_at AS "createdAt" FROM operators ORDER BY created_at`,
    );
    return { data: rows };
  }

  @Post('operators')
  @Needs('admin')
  @HttpCode(201)
  async createOperator(@CurrentOperator() actor: Operator, @Body() body: unknown) {
    const input = validate(createOperator, body ?? {});
    return this.dataSource.transaction((manager) =>
      this.auth.createOperator(manager, actor.id, input.email, input.password, input.role),
    );
  }
}
