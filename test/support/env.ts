import { randomBytes } from 'node:crypto';
import { createDataSource, databaseName } from '#persistence';

/** Connection settings of this test run, set by its Jest global set-up (test/support/jest/test-run.ts). */
export function testSettings() {
  const databaseUrl = process.env.DATABASE_URL;
  const ownerUrl = process.env.DATABASE_MIGRATION_URL ?? '';
  const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const amqpPrefix = process.env.AMQP_PREFIX ?? '';
  if (
    !databaseUrl ||
    !databaseName(databaseUrl).includes('test') ||
    !databaseName(ownerUrl).includes('test')
  ) {
    throw new Error('Tests run only against a database whose name contains "test": use `npm test`.');
  }
  if (!amqpPrefix.startsWith('test.'))
    throw new Error('Tests need an AMQP_PREFIX starting with "test.": use `npm test`.');
  return { databaseUrl, ownerUrl, amqpUrl, amqpPrefix };
}

/**
 * A database beside the run's own, `<run database>_<suffix>`, for a test that must not share one
 * (it breaks invariants, counts what happens on a page, needs an empty operators table, …): its
 * URLs as the schema owner and as the apps' role. Creating, migrating and dropping it is the test's.
 */
export function separateDatabase(suffix: string): { ownerUrl: string; appUrl: string } {
  const owner = new URL(testSettings().ownerUrl);
  owner.pathname = `${owner.pathname}_${suffix}`;
  const app = new URL(testSettings().databaseUrl);
  app.pathname = owner.pathname;
  return { ownerUrl: owner.toString(), appUrl: app.toString() };
}

/** A broker prefix of its own for one test file, inside the run's prefix (cleaned up with it). */
export function uniquePrefix(tag: string): string {
  return `${testSettings().amqpPrefix}${tag}.${randomBytes(2).toString('hex')}.`;
}

/** A connection as the schema owner, for test set-up and assertions (the apps use the app role). */
export async function openDataSource(poolMax = 10, url = testSettings().ownerUrl) {
  const ds = createDataSource({
    DATABASE_URL: url,
    DATABASE_POOL_MAX: poolMax,
    DATABASE_STATEMENT_TIMEOUT_MS: 60_000,
  });
  await ds.initialize();
  return ds;
}

/** Polls `probe` until it returns something truthy; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
