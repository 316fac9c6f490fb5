import {
  Inject,
  Injectable,
  SetMetadata,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../http/admin-error.js';
import { AuthService, ROLES, type Operator, type Role } from './auth.service.js';

const ROLE_KEY = 'tally:admin-role';

/** The least role an endpoint needs (viewer < operator < admin). */
export const Needs = (role: Role) => SetMetadata(ROLE_KEY, role);

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
export const Public = () => SetMetadata(ROLE_KEY, 'public');
