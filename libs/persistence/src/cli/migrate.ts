/**
 * `npm run migrate`: creates the database if needed and applies pending migrations.
 * `npm run migrate -- --revert` undoes the last one.
 */
import { databaseEnv, loadEnv } from '#config';
import { createDataSource, ensureDatabase, runMigrations } from '../data-source.js';

const config = loadEnv(databaseEnv);
await ensureDatabase(config.DATABASE_URL);
const dataSource = createDataSource(config, 'tally-migrate');
await dataSource.initialize();
try {
  if (process.argv.includes('--revert')) {
    await dataSource.undoLastMigration({ transaction: 'each' });
    console.log(JSON.stringify({ reverted: true }));
  } else {
    const applied = await runMigrations(dataSource);
    console.log(JSON.stringify({ applied }));
  }
} finally {
  await dataSource.destroy();
}
