import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRICS_APP_NAME = Symbol('METRICS_APP_NAME');

/**
 * Every Prometheus series Tally exposes, in one registry per process. Series are declared here,
 * once, so names stay consistent across apps and dashboards.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'tally_http_request_duration_seconds',
    help: 'HTTP request latency by route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'tally_rate_limited_total',
    help: 'Requests refused with 429, by rate-limit policy (writes, reads, events, login-account, login-address)',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });

  readonly rateLimitStoreFailures = new Counter({
    name: 'tally_rate_limit_store_failures_total',
    help: 'Rate-limit checks that could not reach the shared store (Redis) and let the request through',
    registers: [this.registry],
  });

  readonly messagesConsumed = new Counter({
    name: 'tally_messages_consumed_total',
    help: 'Messages handled by a consumer, by queue, type and outcome (ok, retried, dead_lettered, duplicate)',
    labelNames: ['queue', 'type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly messageProcessingDuration = new Histogram({
    name: 'tally_message_processing_seconds',
    help: 'Time spent handling one message, by queue and outcome',
    labelNames: ['queue', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });

  readonly usageEventsReceived = new Counter({
    name: 'tally_usage_events_received_total',
    help: 'Usage events received by the gateway, by outcome (accepted, duplicate, rejected)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly usageEventsProcessed = new Counter({
    name: 'tally_usage_events_processed_total',
    help: 'Usage events the worker processed, by type (a registered or metered type, else "other") and outcome (processed, failed)',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly usageEventLatency = new Histogram({
    name: 'tally_usage_event_latency_seconds',
    help: 'Time from a usage event being received (stored by the gateway) to its processing committing, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly webhookAttempts = new Counter({
    name: 'tally_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome (succeeded, retrying, failed, gone)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly webhookLatency = new Histogram({
    name: 'tally_webhook_attempt_duration_seconds',
    help: 'Time from sending a webhook to its answer (or failure)',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly messagesPublished = new Counter({
    name: 'tally_messages_published_total',
    help: 'Messages confirmed by the broker, by exchange',
    labelNames: ['exchange'] as const,
    registers: [this.registry],
  });

  readonly outboxPublishLag = new Histogram({
    name: 'tally_outbox_publish_lag_seconds',
    help: 'Time from an outbox row being written to its publication being confirmed',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly payoutAttempts = new Counter({
    name: 'tally_payout_attempts_total',
    help: 'Calls to the payment provider to pay a withdrawal out, by what they came to',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly payoutOutcomes = new Counter({
    name: 'tally_payout_outcomes_total',
    help: 'Payout outcomes applied, by outcome and by the path that saw it first (webhook, poll, answer, operator)',
    labelNames: ['outcome', 'path'] as const,
    registers: [this.registry],
  });

  readonly providerEventsSetAside = new Counter({
    name: 'tally_provider_events_set_aside_total',
    help: "Provider webhooks that failed to apply and were set aside to retry (each holds back its payout's later events)",
    registers: [this.registry],
  });

  readonly payoutBreakerState = new Gauge({
    name: 'tally_payout_breaker_state',
    help: "The payment provider's circuit breaker: 0 closed, 1 half-open, 2 open",
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  readonly outboxBacklog = new Gauge({
    name: 'tally_outbox_backlog',
    help: 'Outbox rows not yet published (sampled by the relay)',
    registers: [this.registry],
  });

  readonly outboxOldestUnpublishedAge = new Gauge({
    name: 'tally_outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest unpublished outbox row (sampled by the relay)',
    registers: [this.registry],
  });

  readonly queueMessages = new Gauge({
    name: 'tally_queue_messages',
    help: 'Messages waiting in a queue this app consumes, and in its dead-letter queue (read from the broker when scraped)',
    labelNames: ['queue'] as const,
    registers: [this.registry],
    collect: () => this.sampleQueues(),
  });

  readonly queueConsumers = new Gauge({
    name: 'tally_queue_consumers',
    help: 'Consumers attached to a queue this app consumes (read from the broker when scraped)',
    labelNames: ['queue'] as const,
    registers: [this.registry],
    collect: () => this.sampleQueues(),
  });

  /**
   * The app's PostgreSQL pool, read when scraped: `total` connections open, `idle` among them, and
   * `waiting` — queries queued for a connection. Waiting above zero for long means the pool, not
   * the database, is what requests wait on (every connection held by a transaction).
   */
  readonly databasePool = new Gauge({
    name: 'tally_db_pool_connections',
    help: "The app's PostgreSQL pool: connections open (total) and idle, and queries waiting for one (waiting)",
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      const pool = this.poolSampler?.();
      if (!pool) return;
      this.databasePool.set({ state: 'total' }, pool.total);
      this.databasePool.set({ state: 'idle' }, pool.idle);
      this.databasePool.set({ state: 'waiting' }, pool.waiting);
    },
  });

  /** Product cache (docs/architecture.md, "Product cache"): `cache` is `product` or `list`. */
  readonly cacheHits = new Counter({
    name: 'tally_cache_hits_total',
    help: 'Reads answered from the Redis cache, by cache (product, list)',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });

  readonly cacheMisses = new Counter({
    name: 'tally_cache_misses_total',
    help: 'Reads the Redis cache could not answer (absent or invalidated), by cache',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });

  readonly cacheLoads = new Counter({
    name: 'tally_cache_loads_total',
    help: 'Database loads of cached reads, by cache: one per key and version however many misses wait on it, and one per read Redis could not serve',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });

  readonly cacheErrors = new Counter({
    name: 'tally_cache_errors_total',
    help: 'Cache commands Redis failed or timed out (read, fill, invalidate); reads then go to PostgreSQL',
    labelNames: ['cache', 'operation'] as const,
    registers: [this.registry],
  });

  readonly cacheFillsRefused = new Counter({
    name: 'tally_cache_fills_refused_total',
    help: 'Loaded values not stored because a write moved the key meanwhile (they may predate it), by cache',
    labelNames: ['cache'] as const,
    registers: [this.registry],
  });

  private queueSampler: (() => Promise<void>) | undefined;
  private poolSampler: (() => PoolCounts | undefined) | undefined;
  private sampling: Promise<void> | undefined;

  constructor(appName = 'tally') {
    this.registry.setDefaultLabels({ app: appName });
    collectDefaultMetrics({ register: this.registry });
  }

  /** The consumer transport tells how to read its queues' depths; one read serves both gauges. */
  sampleQueuesWith(sampler: () => Promise<void>): void {
    this.queueSampler = sampler;
  }

  /** The persistence layer's pool, read when /metrics is scraped. */
  samplePoolWith(sampler: () => PoolCounts | undefined): void {
    this.poolSampler = sampler;
  }

  private sampleQueues(): Promise<void> {
    if (!this.queueSampler) return Promise.resolve();
    this.sampling ??= this.queueSampler()
      .catch(() => undefined)
      .finally(() => (this.sampling = undefined));
    return this.sampling;
  }

  contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** A connection pool's counts (node-postgres: totalCount, idleCount, waitingCount). */
export interface PoolCounts {
  total: number;
  idle: number;
  waiting: number;
}
