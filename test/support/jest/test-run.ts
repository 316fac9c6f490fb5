/**
 * A test run's own database and broker prefix, made by Jest's global set-up of the tiers that use
 * PostgreSQL and RabbitMQ (test/support/jest/global-setup.mjs) and removed by its global teardown.
 * The tests and the apps they start find them in the environment (testSettings()).
 */
import { randomBytes } from 'node:crypto';
import { databaseName, dropDatabase, migrateDatabase } from '#persistence';
import { deletePrefixedBrokerObjects } from '../broker-cleanup.js';
import { SHARED_LOCK_PID, ServicesLock } from '../services-lock.js';

interface TestRun {
  lock: ServicesLock;
  migrationUrl: string;
  amqpUrl: string;
  amqpPrefix: string;
}

const RUN = Symbol.for('tally.test-run');
type WithRun = typeof globalThis & { [RUN]?: TestRun };

export async function startTestRun(): Promise<void> {
  // The fault suite stops and restarts the shared services: while this run uses them, it holds
  // the machine-wide lock shared (the fault suite takes it exclusively).
  const lock = await ServicesLock.take('shared');
  process.env[SHARED_LOCK_PID] = String(lock.pid);

  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const server = new URL(
    process.env.TEST_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  );
  server.pathname = `/tally_test_${runId}`;
  const migrationUrl = server.toString();
  // The apps connect as the least-privileged role, as in production.
  const appUrl = new URL(migrationUrl);
  appUrl.username = 'tally_app';
  appUrl.password = '';
  const databaseUrl = appUrl.toString();
  if (!databaseName(databaseUrl).includes('test'))
    throw new Error('refusing to run tests on a database without "test" in its name');
  const amqpPrefix = `test.${runId}.`;
  const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

  await migrateDatabase({ DATABASE_MIGRATION_URL: migrationUrl, DATABASE_STATEMENT_TIMEOUT_MS: 60_000 });
  Object.assign(process.env, {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    DATABASE_MIGRATION_URL: migrationUrl,
    DATABASE_MIGRATE_ON_START: 'false',
    AMQP_URL: amqpUrl,
    AMQP_PREFIX: amqpPrefix,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  (globalThis as WithRun)[RUN] = { lock, migrationUrl, amqpUrl, amqpPrefix };
  console.log(`[test] run ${runId}: database ${databaseName(databaseUrl)}, prefix ${amqpPrefix}`);
}

export async function endTestRun(): Promise<void> {
  const run = (globalThis as WithRun)[RUN];
  if (!run) return;
  if (!process.env.TEST_KEEP) {
    await dropDatabase(run.migrationUrl).catch((e: Error) =>
      console.error(`[test] could not drop database: ${e.message}`),
    );
    await deletePrefixedBrokerObjects(run.amqpUrl, run.amqpPrefix).catch((e: Error) =>
      console.error(`[test] could not clean the broker: ${e.message}`),
    );
  }
  await run.lock.release();
}
