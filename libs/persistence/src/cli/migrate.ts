/**
 * `npm run migrate`: creates the database if needed and applies pending migrations, connected as
 * the schema owner (DATABASE_MIGRATION_URL); with CELL_DIRECTORY_MIGRATION_URL, the tenant → cell
 * directory's tables too (docs/scaling.md). `npm run migrate -- --revert` undoes the last one.
 *
 * `--check` (exit 0 when every migration this build knows is applied, 1 otherwise) and
 * `--wait[=seconds]` (poll until they are, default 300 s) connect as the app role (DATABASE_URL):
 * a deployment's app pods wait with them for the migration job before they start.
 */
import { cellDirectoryMigrationEnv, databaseEnv, loadEnv, migrationEnv } from '#config';
import { migrateDirectory } from '../cells/cell-directory.js';
import { createDataSource, migrateDatabase } from '../data-source.js';
import { migrations } from '../migrations/index.js';

const args = process.argv.slice(2);
const waitArg = args.find((a) => a === '--wait' || a.startsWith('--wait='));

/** Names of the migrations this build knows that the database has not applied yet. */
async function pendingMigrations(config: ReturnType<typeof loadEnv<typeof databaseEnv>>): Promise<string[]> {
  const app = createDataSource({ ...config, DATABASE_POOL_MAX: 1 }, 'tally-migrate-check');
  await app.initialize();
  try {
    const rows: { name: string }[] = await app.query('SELECT name FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.name));
    return migrations.map((m) => new m().name).filter((name) => !applied.has(name));
  } finally {
    await app.destroy();
  }
}

if (args.includes('--check') || waitArg) {
  const config = loadEnv(databaseEnv);
  const timeoutMs = waitArg ? Number(waitArg.split('=')[1] ?? 300) * 1000 : 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let pending: string[] | string;
    try {
      pending = await pendingMigrations(config);
    } catch (error) {
      pending = (error as Error).message; // no database or no schema_migrations yet
    }
    if (Array.isArray(pending) && pending.length === 0) {
      console.log(JSON.stringify({ upToDate: true }));
      process.exit(0);
    }
    if (Date.now() >= deadline) {
      console.error(JSON.stringify({ upToDate: false, pending }));
      process.exit(1);
    }
    console.log(JSON.stringify({ waiting: true, pending }));
    await new Promise((r) => setTimeout(r, 2000));
  }
} else if (args.includes('--revert')) {
  const config = loadEnv(migrationEnv);
  const owner = createDataSource({ ...config, DATABASE_URL: config.DATABASE_MIGRATION_URL }, 'tally-migrate');
  await owner.initialize();
  await owner.undoLastMigration({ transaction: 'each' });
  await owner.destroy();
  console.log(JSON.stringify({ reverted: true }));
} else {
  const applied = await migrateDatabase(loadEnv(migrationEnv));
  // Tenant cells (docs/scaling.md): the directory's tables too, as their owner, when asked.
  const { CELL_DIRECTORY_MIGRATION_URL: directory } = loadEnv(cellDirectoryMigrationEnv);
  if (directory) await migrateDirectory(directory);
  console.log(JSON.stringify({ applied, ...(directory ? { directory: 'migrated' } : {}) }));
}
