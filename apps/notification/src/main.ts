import 'reflect-metadata';
import { runMain, startHttpApp } from '#http';
import { loadNotificationConfig } from './config.js';
import { notificationHttpApp } from './http-app.js';

runMain(async () => {
  await startHttpApp(notificationHttpApp(loadNotificationConfig()));
});
