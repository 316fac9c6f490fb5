import 'reflect-metadata';
import { parseJson, stringifyJson } from '#domain';
import { Queues, connectAmqpConsumer } from '#messaging';
import { runMain, startHttpApp } from '#observability';
import { loadAdminConfig } from './config.js';
import { AdminModule } from './admin.module.js';
import { serveDashboard } from './dashboard.js';

runMain(async () => {
  const config = loadAdminConfig();
  await startHttpApp({
    module: AdminModule.register(config),
    port: config.ADMIN_PORT,
    host: config.HTTP_HOST,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    trustProxy: config.HTTP_TRUST_PROXY,
    corsOrigins: config.ADMIN_CORS_ORIGINS,
    // The gateway's JSON: balances and amounts past 2^53 in and out exactly.
    json: { parse: parseJson, stringify: stringifyJson },
    configure: (app) => {
      serveDashboard(app);
      connectAmqpConsumer(app, [Queues.admin], config.AMQP_PREFETCH);
    },
  });
});
