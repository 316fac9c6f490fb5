import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource, QueryRunner } from 'typeorm';
import { dropDatabase, ensureDatabase, migrateDatabase, migrations } from '#persistence';
import { openDataSource, separateDatabase } from '#test-support';

const run = promisify(execFile);

/**
 * The database's schema as `pg_dump --schema-only` writes it: tables, columns, constraints,
 * indexes, triggers, functions, grants and storage options. pg_dump's per-run `\restrict` key is
 * left out.
 */
async function schemaOf(url: string): Promise<string> {
  const { stdout } = await run('pg_dump', ['--schema-only', '--dbname', url], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout
    .split('\n')
    .filter((line) => !/^\\(un)?restrict /.test(line))
    .join('\n');
}

/** The lines of `actual` and of `expected` that the other lacks, for a message that fits. */
function difference(actual: string, expected: string): string {
  const a = new Set(actual.split('\n'));
  const e = new Set(expected.split('\n'));
  const extra = [...a].filter((l) => !e.has(l)).map((l) => `+ ${l}`);
  const missing = [...e].filter((l) => !a.has(l)).map((l) => `- ${l}`);
  return [...missing, ...extra].slice(0, 40).join('\n') || '(same lines, in another order)';
}

// `npm run migrate -- --revert` undoes the last migration in production: each `down` must be the
// exact inverse of its `up`, or a revert leaves a schema no build was tested against.
describe('migrations: each one reverted leaves the schema as it found it', () => {
  const { ownerUrl } = separateDatabase('migrations');
  // The schema owner's connection, one at a time (the test support's helper).
  const connect = (): Promise<DataSource> => openDataSource(1, ownerUrl);

  beforeAll(async () => {
    await dropDatabase(ownerUrl);
    await ensureDatabase(ownerUrl);
  });

  afterAll(async () => {
    await dropDatabase(ownerUrl);
  });

  it('applied one at a time, then reverted one at a time: every down gives back the schema before its up', async () => {
    const owner = await connect();
    // TypeORM's own table, which it creates before the first migration (one of them grants on it).
    await owner.showMigrations();
    // Each up and down in a transaction of its own, as the CLI runs them, on that transaction's runner.
    const step = (apply: (runner: QueryRunner) => Promise<void>) =>
      owner.transaction((manager) => apply(manager.queryRunner!));
    try {
      // before[k]: the schema migration k found.
      const before: string[] = [];
      for (const M of migrations) {
        before.push(await schemaOf(ownerUrl));
        await step((r) => new M().up(r));
      }
      const full = await schemaOf(ownerUrl);
      for (let k = migrations.length - 1; k >= 0; k--) {
        const migration = new migrations[k]!();
        await step((r) => migration.down(r));
        const after = await schemaOf(ownerUrl);
        assert.ok(
          after === before[k],
          `${migration.name}: down differs from the schema before up\n${difference(after, before[k]!)}`,
        );
      }
      // And forward again to the same schema.
      for (const M of migrations) await step((r) => new M().up(r));
      assert.ok((await schemaOf(ownerUrl)) === full, 'the schema applied again differs');
    } finally {
      await owner.destroy();
    }
  });

  it('the revert that `npm run migrate -- --revert` runs, then migrating again, gives the same schema and bookkeeping', async () => {
    const settings = { DATABASE_MIGRATION_URL: ownerUrl, DATABASE_STATEMENT_TIMEOUT_MS: 60_000 };
    await dropDatabase(ownerUrl);
    await migrateDatabase(settings);
    const full = await schemaOf(ownerUrl);
    const again = await connect();
    try {
      const last = new migrations[migrations.length - 1]!().name;
      await again.undoLastMigration({ transaction: 'each' });
      assert.deepEqual(await again.query(`SELECT name FROM schema_migrations WHERE name = $1`, [last]), []);
      assert.deepEqual(await migrateDatabase(settings), [last]);
      assert.ok((await schemaOf(ownerUrl)) === full, 'the schema migrated again differs');
    } finally {
      await again.destroy();
    }
  });
});
