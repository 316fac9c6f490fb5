// Jest globalSetup of the tiers that use PostgreSQL and RabbitMQ: a fresh build, then the run's own
// database and broker prefix (test-run.ts, compiled).
import { ensureFreshBuild } from './fresh-build.mjs';

export default async function globalSetup(globalConfig) {
  ensureFreshBuild(globalConfig.rootDir);
  const { startTestRun } = await import('../../../dist/test/support/jest/test-run.js');
  await startTestRun();
}
