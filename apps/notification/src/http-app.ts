import { Queues, connectAmqpConsumer } from '#messaging';
import type { HttpAppOptions } from '#http';
import type { NotificationConfig } from './config.js';
import { NotificationModule } from './notification.module.js';

/** The notification app (its consumer and delivery dispatcher, HTTP for health and metrics), as main.ts starts it and the in-process tests boot it. */
export function notificationHttpApp(config: NotificationConfig): HttpAppOptions {
  return {
    module: NotificationModule.register(config),
    port: config.NOTIFICATION_PORT,
    host: config.HTTP_HOST,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    configure: (app) => connectAmqpConsumer(app, [Queues.notification], config.AMQP_PREFETCH),
  };
}
