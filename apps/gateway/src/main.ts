import 'reflect-metadata';
import { runMain, startHttpApp } from '#http';
import { loadGatewayConfig } from './config.js';
import { gatewayHttpApp } from './http-app.js';

runMain(async () => {
  await startHttpApp(gatewayHttpApp(loadGatewayConfig()));
});
