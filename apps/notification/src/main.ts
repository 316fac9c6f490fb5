import 'reflect-metadata';
import { Queues, connectAmqpConsumer } from '#messaging';
import { runMain, startHttpApp } from '#observability';
import { loadNotificationConfig } from './config.js';
import { NotificationModule } from './notification.module.js';

runMain(async () => {
  const config = loadNotificationConfig();
  await startHttpApp({
    module: NotificationModule.register(config),
    port: config.NOTIFICATION_PORT,
    host: config.HTTP_HOST,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    configure: (app) => connectAmqpConsumer(app, [Queues.notification], config.AMQP_PREFETCH),
  });
});
