import { Inject, Injectable, type CanActivate, type ExecutionContext, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { AccountNotFoundError, OrderNotFoundError, bearerToken, hasIdPrefix } from '#domain';
import { ApiError, ValidationError } from '#http';
import { HealthController, MetricsController } from '#observability';
import { OrderRepository } from '#persistence';
import { CustomerSessions, type Customer } from '../customer-sessions/customer-sessions.js';
import {
  CUSTOMER_ACCESS,
  NO_CREDENTIALS,
  type AddressBucket,
  type CustomerAccess,
  type Owned,
} from './access.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { GatewayRateLimits } from './rate-limits.js';

/** /health and /metrics: open on every app (docs/api.md, "Operations"). */
const OPERATIONS: ReadonlySet<Type> = new Set([HealthController, MetricsController]);
/** Three base64url parts: a JWT in compact form (an API key is `tk_…`, never this). */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/**
 * The one guard over every gateway route (registered as APP_GUARD), deciding by credential:
 * - an API key: the tenant's full API, as ApiKeyGuard checks it (and its rate limits);
 * - a customer access token: only routes marked `@AllowCustomer(scope, owned)` whose scope the
 *   token holds (else 403 `forbidden`), only on what its account owns (else 404, as for any
 *   resource the caller cannot see), in the account's own rate-limit bucket;
 * - nothing, on a `@NoCredentials(bucket)` route (a session refresh, a provider's signed event), in
 *   the client address's bucket of that kind.
 * Ownership is checked here and nowhere else; the handlers then run as for the tenant.
 */
@Injectable()
export class GatewayGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeyGuard) private readonly apiKeys: ApiKeyGuard,
    @Inject(CustomerSessions) private readonly customers: CustomerSessions,
    @Inject(OrderRepository) private readonly orders: OrderRepository,
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(GatewayRateLimits) private readonly rateLimits: GatewayRateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (OPERATIONS.has(context.getClass())) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const targets = [context.getHandler(), context.getClass()];
    const bucket = this.reflector.getAllAndOverride<AddressBucket | undefined>(NO_CREDENTIALS, targets);
    if (bucket) {
      await this.rateLimits.enforceAddress(bucket, request.ip, reply);
      return true;
    }
    const token = bearerToken(request.headers.authorization);
    // Anything that is not a JWT is an API key, or the API key guard's 401.
    if (token === null || !JWT.test(token)) return this.apiKeys.canActivate(context);

    const customer = await this.customers.authenticate(token);
    await this.rateLimits.enforceCustomer(customer.accountId, reply);
    const access = this.reflector.get<CustomerAccess | undefined>(CUSTOMER_ACCESS, context.getHandler());
    if (!access || !customer.scopes.includes(access.scope)) {
      throw new ApiError(
        403,
        'forbidden',
        'A customer access token cannot call this operation; it needs an API key.',
      );
    }
    if (access.owned) await this.checkOwnership(request, access.owned, customer);
    request.tenant = {
      tenantId: customer.tenantId,
      apiKeyId: null,
      customer: { accountId: customer.accountId, sessionId: customer.sessionId },
    };
    return true;
  }

  /**
   * The resource the route names must be the customer's: its own account, or an order of it.
   * Anything else answers as a resource that does not exist (404), never 403: a customer learns
   * nothing about other accounts. A missing account id in a body is left to validation (400); one
   * missing from a query filter becomes the customer's own.
   */
  private async checkOwnership(request: FastifyRequest, owned: Owned, customer: Customer): Promise<void> {
    if (owned.resource === 'order') {
      const id = (request.params as Record<string, string>)[owned.name];
      const owner = hasIdPrefix(id, 'ord')
        ? await this.orders.accountOf(this.dataSource.manager, customer.tenantId, id)
        : null;
      if (owner !== customer.accountId) throw new OrderNotFoundError(id);
      return;
    }
    const source = (
      owned.in === 'param' ? request.params : owned.in === 'query' ? request.query : request.body
    ) as Record<string, unknown> | null | undefined;
    const value = source !== null && typeof source === 'object' ? source[owned.name] : undefined;
    if (value === undefined) {
      if (owned.in === 'query') (request.query as Record<string, unknown>)[owned.name] = customer.accountId;
      return;
    }
    if (typeof value !== 'string')
      throw new ValidationError([{ field: owned.name, message: 'must be a string' }]);
    if (value !== customer.accountId) throw new AccountNotFoundError(value);
  }
}
