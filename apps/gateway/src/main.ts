import 'reflect-metadata';
import { runMain, startHttpApp } from '#observability';
import { loadGatewayConfig } from './config.js';
import { gatewayHttpApp } from './http-app.js';

runMain(async () => {
  await startHttpApp(gatewayHttpApp(loadGatewayConfig()));
});
