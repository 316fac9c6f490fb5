import 'reflect-metadata';
import { runMain, startHttpApp } from '#http';
import { loadWorkerConfig } from './config.js';
import { workerHttpApp } from './http-app.js';

runMain(async () => {
  await startHttpApp(workerHttpApp(loadWorkerConfig()));
});
