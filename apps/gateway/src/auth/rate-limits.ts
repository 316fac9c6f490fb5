import type { OnApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Metrics } from '#observability';
import { rateLimitHeaders, type BucketPolicy, type RateLimiter } from '#http';
import { ApiError } from '#http';
import type { GatewayConfig } from '../config.js';
import type { AddressBucket } from './access.js';

export type RouteClass = 'writes' | 'reads' | 'events';

/**
 * Per API key, one bucket for each class of route. Customer access tokens (storefronts) have a
 * class of their own, one bucket per account whatever the route: a storefront's customers never
 * spend the tenant's API-key budget, nor each other's. Routes without credentials spend one bucket
 * per client address: a tight one for session refreshes, the events class's for a payment
 * provider's signed events.
 */
export class GatewayRateLimits implements OnApplicationShutdown {
  private readonly policies: Record<RouteClass, BucketPolicy>;
  private readonly customer: BucketPolicy;
  private readonly refresh: BucketPolicy;
  private readonly providerEvents: BucketPolicy;

  constructor(
    private readonly limiter: RateLimiter | null,
    private readonly metrics: Metrics,
    config: Pick<
      GatewayConfig,
      | 'RATE_LIMIT_WRITES_PER_SECOND'
      | 'RATE_LIMIT_WRITES_BURST'
      | 'RATE_LIMIT_READS_PER_SECOND'
      | 'RATE_LIMIT_READS_BURST'
      | 'RATE_LIMIT_EVENTS_PER_SECOND'
      | 'RATE_LIMIT_EVENTS_BURST'
      | 'RATE_LIMIT_CUSTOMER_PER_SECOND'
      | 'RATE_LIMIT_CUSTOMER_BURST'
      | 'RATE_LIMIT_REFRESH_PER_MINUTE'
    >,
  ) {
    this.policies = {
      writes: {
        name: 'writes',
        capacity: config.RATE_LIMIT_WRITES_BURST,
        refillPerSecond: config.RATE_LIMIT_WRITES_PER_SECOND,
      },
      reads: {
        name: 'reads',
        capacity: config.RATE_LIMIT_READS_BURST,
        refillPerSecond: config.RATE_LIMIT_READS_PER_SECOND,
      },
      events: {
        name: 'events',
        capacity: config.RATE_LIMIT_EVENTS_BURST,
        refillPerSecond: config.RATE_LIMIT_EVENTS_PER_SECOND,
      },
    };
    this.customer = {
      name: 'customer',
      capacity: config.RATE_LIMIT_CUSTOMER_BURST,
      refillPerSecond: config.RATE_LIMIT_CUSTOMER_PER_SECOND,
    };
    this.refresh = {
      name: 'customer-refresh',
      capacity: config.RATE_LIMIT_REFRESH_PER_MINUTE,
      refillPerSecond: config.RATE_LIMIT_REFRESH_PER_MINUTE / 60,
    };
    this.providerEvents = { ...this.policies.events, name: 'provider-events' };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.limiter?.close();
  }

  /** Takes a token for this key's class; sets the RateLimit headers; throws 429 when empty. */
  async enforce(apiKeyId: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const routeClass = classify(request.method, request.routeOptions.url ?? request.url);
    await this.take(
      apiKeyId,
      this.policies[routeClass],
      reply,
      `Too many ${routeClass} requests for this API key`,
    );
  }

  /** A request with a customer access token: the account's bucket. */
  async enforceCustomer(accountId: string, reply: FastifyReply): Promise<void> {
    await this.take(accountId, this.customer, reply, 'Too many requests for this customer');
  }

  /** A route without credentials: the client address's bucket of its kind. */
  async enforceAddress(bucket: AddressBucket, address: string, reply: FastifyReply): Promise<void> {
    if (bucket === 'provider-events') {
      await this.take(address, this.providerEvents, reply, 'Too many provider events from this address');
    } else {
      await this.take(address, this.refresh, reply, 'Too many session refreshes from this address');
    }
  }

  private async take(key: string, policy: BucketPolicy, reply: FastifyReply, refusal: string): Promise<void> {
    if (!this.limiter) return;
    const decision = await this.limiter.take(key, policy);
    const headers = rateLimitHeaders(decision);
    if (decision.allowed) {
      void reply.headers(headers);
      return;
    }
    this.metrics.rateLimited.inc({ policy: policy.name });
    throw new ApiError(
      429,
      'rate_limited',
      `${refusal}; retry after ${decision.retryAfterSeconds} s.`,
      undefined,
      headers,
    );
  }
}

/** Usage ingestion has its own budget; every other non-GET is a write. */
export function classify(method: string, route: string): RouteClass {
  if (method === 'GET' || method === 'HEAD') return 'reads';
  if (method === 'POST' && /^\/v1\/events\/?$/.test(route)) return 'events';
  return 'writes';
}
