import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Tenant } from './api-key.guard.js';

/** The authenticated tenant of this request (set by GatewayGuard). */
export const CurrentTenant = createParamDecorator((_data: unknown, context: ExecutionContext): Tenant => {
  const tenant = context.switchToHttp().getRequest<FastifyRequest>().tenant;
  if (!tenant) throw new Error('CurrentTenant used on a route without credentials');
  return tenant;
});
