import pg from 'pg';
import { DataSource } from 'typeorm';
import type { DatabaseConfig } from '#config';
import { entities } from './entities/index.js';
import { migrations } from './migrations/index.js';

// bigint columns (money, ids) come back as strings unless told otherwise; we convert explicitly
// with BigInt() where they are read, never through Number.

/**
 * Longest wait for a database connection, also at start-up (the only dependency an app waits for
 * before it listens; test/unit/deploy sizes the startup probes from it).
 */
export const DATABASE_CONNECT_TIMEOUT_MS = 10_000;

export function createDataSource(
  config: Pick<DatabaseConfig, 'DATABASE_URL' | 'DATABASE_POOL_MAX' | 'DATABASE_STATEMENT_TIMEOUT_MS'>,
  applicationName = 'tally',
): DataSource {
  return new DataSource({
    type: 'postgres',
    driver: pg,
    url: config.DATABASE_URL,
    entities,
    migrations,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    applicationName,
    extra: {
      max: config.DATABASE_POOL_MAX,
      statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS,
      idle_in_transaction_session_timeout: Math.max(config.DATABASE_STATEMENT_TIMEOUT_MS * 2, 60_000),
      // Also the longest wait for a pooled connection under load; past it the request fails (503).
      connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS,
    },
  });
}

/** The database name of a postgres URL. */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/**
 * Creates the database named in `url` when it does not exist (development and tests), with the
 * "C" collation, as the cluster's initdb sets it (k8s/base/postgres.cluster.yaml): the keys are
 * ASCII ids, and text compares byte by byte (memcmp) instead of through the C library's strcoll.
 * This machine's template has C.UTF-8, which orders text the same way (by code point) but misses
 * that fast path: 500-row inserts into a copy of `usage_events` and its indexes took 15-20 % longer
 * (docs/performance.md). The character classes stay the template's, so text search still knows
 * non-ASCII letters.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client
        .query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE template0 LC_COLLATE 'C'`)
        .catch((error: { code?: string }) => {
          if (error.code !== '42P04') throw error; // created concurrently by another process
        });
    }
  } finally {
    await client.end();
  }
}

/** Drops the database named in `url` (tests only). */
export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

// Several apps start at once in development; one of them migrates while the others wait.
// The lock holds one pooled connection and the migrations need another: pool size >= 2.
const MIGRATION_LOCK = 7_316_001;

/** Runs pending migrations under an advisory lock; returns the names applied. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

/** Creates the database if needed and applies pending migrations, as the schema owner. */
export async function migrateDatabase(
  config: Pick<DatabaseConfig, 'DATABASE_MIGRATION_URL' | 'DATABASE_STATEMENT_TIMEOUT_MS'>,
): Promise<string[]> {
  await ensureDatabase(config.DATABASE_MIGRATION_URL);
  const owner = createDataSource(
    {
      DATABASE_URL: config.DATABASE_MIGRATION_URL,
      DATABASE_POOL_MAX: 2,
      DATABASE_STATEMENT_TIMEOUT_MS: 600_000,
    },
    'tally-migrate',
  );
  await owner.initialize();
  try {
    return await runMigrations(owner);
  } finally {
    await owner.destroy();
  }
}
