import { amqpEnv, databaseEnv, loadEnv, outboxEnv, port, runtimeEnv } from '#config';

export const workerEnv = {
  ...runtimeEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...outboxEnv,
  ...port('WORKER_PORT', 3002),
};
export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;
export const loadWorkerConfig = () => loadEnv(workerEnv);
