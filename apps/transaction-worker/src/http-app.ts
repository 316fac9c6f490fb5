import { Queues, connectAmqpConsumer } from '#messaging';
import type { HttpAppOptions } from '#http';
import type { WorkerConfig } from './config.js';
import { WorkerModule } from './worker.module.js';

/** The transaction worker (its consumer, and HTTP for health and metrics), as main.ts starts it and the in-process tests boot it. */
export function workerHttpApp(config: WorkerConfig): HttpAppOptions {
  return {
    module: WorkerModule.register(config),
    port: config.WORKER_PORT,
    host: config.HTTP_HOST,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    configure: (app) => connectAmqpConsumer(app, [Queues.transactionWorker], config.AMQP_PREFETCH),
  };
}
