import 'reflect-metadata';
import { Queues, connectAmqpConsumer } from '#messaging';
import { runMain, startHttpApp } from '#observability';
import { loadWorkerConfig } from './config.js';
import { WorkerModule } from './worker.module.js';

runMain(async () => {
  const config = loadWorkerConfig();
  await startHttpApp({
    module: WorkerModule.register(config),
    port: config.WORKER_PORT,
    host: config.HTTP_HOST,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    configure: (app) => connectAmqpConsumer(app, [Queues.transactionWorker], config.AMQP_PREFETCH),
  });
});
