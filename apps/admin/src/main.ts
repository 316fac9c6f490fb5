import 'reflect-metadata';
import { runMain, startHttpApp } from '#http';
import { loadAdminConfig } from './config.js';
import { adminHttpApp } from './http-app.js';

runMain(async () => {
  await startHttpApp(adminHttpApp(loadAdminConfig()));
});
