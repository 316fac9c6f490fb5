import {
  amqpEnv,
  databaseEnv,
  envClass,
  int,
  loadEnv,
  outboxEnv,
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
};
/** The worker's configuration as a class-validator class (its static lists serve deploy checks). */
export const WorkerEnv = envClass(workerEnv, 'WorkerEnv');
export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;
export const loadWorkerConfig = (env: Record<string, string | undefined> = process.env) =>
  loadEnv(WorkerEnv, env);
