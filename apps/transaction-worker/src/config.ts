import { amqpEnv, databaseEnv, int, loadEnv, outboxEnv, port, runtimeEnv } from '#config';

export const workerEnv = {
  ...runtimeEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...outboxEnv,
  ...port('WORKER_PORT', 3002),
  /** Most commands applied in one database transaction. */
  WORKER_BATCH_SIZE: int(1, 1000, 50),
  /** Batches in flight at once; each holds a database connection (keep below DATABASE_POOL_MAX). */
  WORKER_BATCH_CONCURRENCY: int(1, 100, 4),
};
export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;
export const loadWorkerConfig = () => loadEnv(workerEnv);
