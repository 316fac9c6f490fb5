import { parseJson, stringifyJson } from '#domain';
import { Queues, connectAmqpConsumer } from '#messaging';
import { frameworkProblemOf, type HttpAppOptions } from '#http';
import { AdminModule } from './admin.module.js';
import type { AdminConfig } from './config.js';
import { serveDashboard } from './dashboard.js';
import { serveAdminDocs } from './docs/admin-document.js';

/** The admin app (API, dashboard, event projections), as main.ts starts it and the in-process tests boot it. */
export function adminHttpApp(config: AdminConfig): HttpAppOptions {
  return {
    module: AdminModule.register(config),
    port: config.ADMIN_PORT,
    host: config.HTTP_HOST,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    trustProxy: config.HTTP_TRUST_PROXY,
    corsOrigins: config.ADMIN_CORS_ORIGINS,
    // The gateway's JSON: balances and amounts past 2^53 in and out exactly.
    json: { parse: parseJson, stringify: stringifyJson },
    frameworkProblem: frameworkProblemOf,
    configure: (app) => {
      serveAdminDocs(app);
      serveDashboard(app);
      connectAmqpConsumer(app, [Queues.admin], config.AMQP_PREFETCH);
    },
  };
}
