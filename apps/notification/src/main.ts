import 'reflect-metadata';
import { runMain, startHttpApp } from '#observability';
import { loadNotificationConfig } from './config.js';
import { notificationHttpApp } from './http-app.js';

runMain(async () => {
  await startHttpApp(notificationHttpApp(loadNotificationConfig()));
});
