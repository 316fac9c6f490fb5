/**
 * `npm run migrate`: creates the database if needed and applies pending migrations, connected as
 * the schema owner (DATABASE_MIGRATION_URL). `npm run migrate -- --revert` undoes the last one.
 */
import { databaseEnv, loadEnv } from '#config';
import { createDataSource, migrateDatabase } from '../data-source.js';

const config = loadEnv(databaseEnv);
if (process.argv.includes('--revert')) {
  const owner = createDataSource({ ...config, DATABASE_URL: config.DATABASE_MIGRATION_URL }, 'tally-migrate');
  await owner.initialize();
  await owner.undoLastMigration({ transaction: 'each' });
  await owner.destroy();
  console.log(JSON.stringify({ reverted: true }));
} else {
  console.log(JSON.stringify({ applied: await migrateDatabase(config) }));
}
