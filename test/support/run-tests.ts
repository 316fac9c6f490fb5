/**
 * The test command: gives this run its own database (name contains "test") and its own
 * RabbitMQ prefix, migrates, runs the chosen tiers with node's test runner, then drops both.
 *   node dist/test/support/run-tests.js [unit] [integration] [e2e]     (TEST_FILTER=part-of-a-path for some files)
 * The `faults` tier runs only when named, through scripts/test-faults.sh (npm run test:faults).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseName, dropDatabase, migrateDatabase } from '#persistence';
import { deletePrefixedBrokerObjects } from './broker-cleanup.js';

const TIERS = ['unit', 'integration', 'e2e'] as const;
/** Run only when named: it stops and restarts the shared services (scripts/test-faults.sh). */
const NAMED_ONLY = ['faults'] as const;
const distTest = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function testFiles(dir: string): string[] {
  let found: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) found = found.concat(testFiles(full));
    else if (entry.endsWith('.test.js')) found.push(full);
  }
  return found;
}

const requested = process.argv.slice(2);
const tiers = requested.length > 0 ? requested : [...TIERS];
for (const tier of tiers) {
  if (![...TIERS, ...NAMED_ONLY].includes(tier as never)) {
    console.error(`unknown tier "${tier}"; use ${[...TIERS, ...NAMED_ONLY].join(', ')}`);
    process.exit(2);
  }
}

const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const server = new URL(process.env.TEST_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
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

const needsServices = tiers.some((t) => t !== 'unit');
if (needsServices) {
  await migrateDatabase({ DATABASE_MIGRATION_URL: migrationUrl, DATABASE_STATEMENT_TIMEOUT_MS: 60_000 });
}

// TEST_FILTER=concurrency runs only the files whose path contains it (TEST_NAME: see below).
const filter = process.env.TEST_FILTER;
const files = tiers
  .flatMap((tier) => testFiles(path.join(distTest, tier)))
  .filter((f) => !filter || f.includes(filter));
console.log(
  `[test] run ${runId}: ${files.length} files (${tiers.join(', ')}), database ${databaseName(databaseUrl)}, prefix ${amqpPrefix}`,
);

const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    [
      '--test',
      '--test-concurrency=1',
      '--test-force-exit',
      // The fault suite is one file of several scenarios, each a few tens of seconds.
      `--test-timeout=${tiers.includes('faults') ? 900_000 : 300_000}`,
      '--test-reporter=spec',
      // TEST_NAME=part-of-a-test-name runs only the tests whose name matches (others are skipped).
      ...(process.env.TEST_NAME ? ['--test-name-pattern', process.env.TEST_NAME] : []),
      ...files,
    ],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: databaseUrl,
        DATABASE_MIGRATION_URL: migrationUrl,
        DATABASE_MIGRATE_ON_START: 'false',
        AMQP_URL: amqpUrl,
        AMQP_PREFIX: amqpPrefix,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      },
    },
  );
  child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
});

if (needsServices && !process.env.TEST_KEEP) {
  await dropDatabase(migrationUrl).catch((e: Error) =>
    console.error(`[test] could not drop database: ${e.message}`),
  );
  await deletePrefixedBrokerObjects(amqpUrl, amqpPrefix).catch((e: Error) =>
    console.error(`[test] could not clean the broker: ${e.message}`),
  );
}
process.exit(code);
