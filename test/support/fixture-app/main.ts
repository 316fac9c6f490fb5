import 'reflect-metadata';
import { connectAmqpConsumer } from '#messaging';
import { runMain, startHttpApp } from '#http';
import { FixtureModule, fixtureQueue, loadFixtureConfig } from './fixture.module.js';

runMain(async () => {
  const config = loadFixtureConfig();
  await startHttpApp({
    module: FixtureModule.register(config),
    port: config.FIXTURE_PORT,
    host: '127.0.0.1',
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    configure: (app) => connectAmqpConsumer(app, [fixtureQueue], config.AMQP_PREFETCH),
  });
});
