import {
  Inject,
  Injectable,
  SetMetadata,
  applyDecorators,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiProblems } from '../docs/problems.js';
import { forbidden, unauthorized } from '../http/errors.js';
import { AuthService, ROLES, type Operator, type Role } from './auth.service.js';

const ROLE_KEY = 'tally:admin-role';

/** The scheme of the operators' access tokens in the admin API's document. */
export const BEARER = 'bearer';

/**
 * The least role an endpoint needs (viewer < operator < admin): what the guard enforces, and what
 * the document says (`x-required-role`, the bearer scheme, 401 and 403), from the one argument.
 */
export const Needs = (role: Role) =>
  applyDecorators(
    SetMetadata(ROLE_KEY, role),
    ApiExtension('x-required-role', role),
    ApiBearerAuth(BEARER),
    ApiProblems('unauthorized', 'forbidden'),
  );

declare module 'fastify' {
  interface FastifyRequest {
    operator?: Operator;
  }
}

/** The signed-in operator. */
export const CurrentOperator = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<FastifyRequest>().operator!,
);

/**
 * Every admin endpoint declares the role it needs (`@Needs`); one that forgets is refused, so a
 * new endpoint cannot be open by accident.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AuthService) private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const needed = this.reflector.getAllAndOverride<Role | 'public' | undefined>(ROLE_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (needed === 'public') return true;
    if (!needed) throw forbidden('This endpoint declares no role.');
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match) throw unauthorized();
    const operator = await this.auth.authenticate(match[1]);
    if (ROLES.indexOf(operator.role) < ROLES.indexOf(needed)) {
      throw forbidden(`This needs the ${needed} role; you are a ${operator.role}.`);
    }
    request.operator = operator;
    return true;
  }
}

/** Open to anyone (login, refresh). */
export const Public = () =>
  applyDecorators(SetMetadata(ROLE_KEY, 'public'), ApiExtension('x-required-role', 'public'), ApiProblems());
