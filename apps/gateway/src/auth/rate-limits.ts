import type { OnApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Metrics } from '#observability';
import { rateLimitHeaders, type BucketPolicy, type RateLimiter } from '#http';
import { ApiError } from '#http';
import type { GatewayConfig } from '../config.js';

export type RouteClass = 'writes' | 'reads' | 'events';

/** Per API key, one bucket for each class of route. */
export class GatewayRateLimits implements OnApplicationShutdown {
  private readonly policies: Record<RouteClass, BucketPolicy>;

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
  }

  async onApplicationShutdown(): Promise<void> {
    await this.limiter?.close();
  }

  /** Takes a token for this key's class; sets the RateLimit headers; throws 429 when empty. */
  async enforce(apiKeyId: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!this.limiter) return;
    const routeClass = classify(request.method, request.routeOptions.url ?? request.url);
    const decision = await this.limiter.take(apiKeyId, this.policies[routeClass]);
    const headers = rateLimitHeaders(decision);
    if (decision.allowed) {
      void reply.headers(headers);
      return;
    }
    this.metrics.rateLimited.inc({ policy: routeClass });
    throw new ApiError(
      429,
      'rate_limited',
      `Too many ${routeClass} requests for this API key; retry after ${decision.retryAfterSeconds} s.`,
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
