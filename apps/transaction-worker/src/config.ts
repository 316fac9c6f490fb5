import {
  ConfigError,
  amqpEnv,
  databaseEnv,
  envClass,
  int,
  loadEnv,
  outboxEnv,
  payoutProviderEnv,
  port,
  productCacheEnv,
  redisEnv,
  runtimeEnv,
} from '#config';

export const workerEnv = {
  ...runtimeEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...outboxEnv,
  /** Where the "bought together" job copies each product's top neighbours (unset: PostgreSQL only). */
  ...redisEnv,
  /** Order completion and release change stock: the worker invalidates the gateway's product cache. */
  PRODUCT_CACHE_TTL_SECONDS: productCacheEnv.PRODUCT_CACHE_TTL_SECONDS,
  ...port('WORKER_PORT', 3002),
  /** Most commands applied in one database transaction. */
  WORKER_BATCH_SIZE: int(1, 1000, 50),
  /** Batches in flight at once; each holds a database connection (keep below DATABASE_POOL_MAX). */
  WORKER_BATCH_CONCURRENCY: int(1, 100, 2),
  /** How often expired holds are looked for and released. */
  HOLD_SWEEP_INTERVAL_MS: int(50, 3_600_000, 1000),
  /** Orders completed at once (each holds a database connection; a hot product serialises them). */
  ORDER_CONCURRENCY: int(1, 100, 2),
  /** How often orders left reserved past their reservation are looked for and cancelled. */
  ORDER_SWEEP_INTERVAL_MS: int(50, 3_600_000, 5000),
  /** Most holds released in one database transaction. */
  HOLD_SWEEP_BATCH_SIZE: int(1, 1000, 100),
  /** Usage batches processed at once (each holds a database connection). */
  USAGE_BATCH_CONCURRENCY: int(1, 100, 2),
  /** Seconds between runs of the "bought together" job (counts newly completed orders). */
  RECOMMENDATIONS_INTERVAL: int(1, 86_400, 60),
  /** Usage events worth at least this many minor units are categorised `high_value`. */
  USAGE_HIGH_VALUE_THRESHOLD: int(0, Number.MAX_SAFE_INTEGER, 100_000),
  ...payoutProviderEnv,
  /** Attempts of a payout (the first included) before its outcome is `unknown` (reconciliation). */
  PAYOUT_MAX_ATTEMPTS: int(1, 50, 8),
  /** Backoff between attempts: this doubled per attempt, at most PAYOUT_RETRY_MAX_MS, 50–100 % jitter. */
  PAYOUT_RETRY_BASE_MS: int(10, 3_600_000, 1000),
  PAYOUT_RETRY_MAX_MS: int(10, 24 * 3_600_000, 300_000),
  /** An accepted payout without an outcome (no webhook) this long after is polled, and again as long after. */
  PAYOUT_OUTCOME_AFTER_MS: int(100, 7 * 24 * 3_600_000, 60_000),
  /** How often due payouts, overdue outcomes and received provider events are looked for. */
  PAYOUT_DISPATCH_INTERVAL_MS: int(10, 60_000, 500),
  /** Calls to the provider in flight at once. */
  PAYOUT_CONCURRENCY: int(1, 100, 8),
  /** Consecutive failed calls (timeout, 5xx, connection) that open the circuit breaker… */
  PAYOUT_BREAKER_FAILURES: int(1, 1000, 5),
  /** …which then lets no call through for this long, then one trial call. */
  PAYOUT_BREAKER_COOLDOWN_MS: int(100, 3_600_000, 30_000),
  /**
   * A payout being sent is its worker's for this long: a worker that dies mid-call gives it up
   * after it, and another sends it again under the same idempotency key (above the timeout).
   */
  PAYOUT_LEASE_MS: int(200, 3_600_000, 60_000),
  /** How often payouts are compared with the provider's report (GET /payouts?since=). */
  PAYOUT_RECONCILE_INTERVAL_MS: int(100, 24 * 3_600_000, 300_000),
  /** Payouts created within this many hours are compared. */
  PAYOUT_RECONCILE_WINDOW_HOURS: int(1, 24 * 90, 72),
};
/** The worker's configuration as a class-validator class (its static lists serve deploy checks). */
export const WorkerEnv = envClass(workerEnv, 'WorkerEnv');
export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;
export const loadWorkerConfig = (env: Record<string, string | undefined> = process.env) => {
  const config = loadEnv(WorkerEnv, env);
  if (config.PAYOUT_PROVIDER_URL && !config.PAYOUT_PROVIDER_API_KEY && config.NODE_ENV === 'production') {
    throw new ConfigError([
      {
        variable: 'PAYOUT_PROVIDER_API_KEY',
        message: 'must be set in production when PAYOUT_PROVIDER_URL is',
      },
    ]);
  }
  if (config.PAYOUT_LEASE_MS <= config.PAYOUT_PROVIDER_TIMEOUT_MS) {
    throw new ConfigError([
      { variable: 'PAYOUT_LEASE_MS', message: 'must be more than PAYOUT_PROVIDER_TIMEOUT_MS' },
    ]);
  }
  if (config.PAYOUT_RETRY_MAX_MS < config.PAYOUT_RETRY_BASE_MS) {
    throw new ConfigError([
      { variable: 'PAYOUT_RETRY_MAX_MS', message: 'must be at least PAYOUT_RETRY_BASE_MS' },
    ]);
  }
  return config;
};
