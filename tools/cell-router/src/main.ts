import {
  cellDirectoryMigrationEnv,
  list,
  loadEnv,
  optionalCellName,
  optionalUrl,
  port,
  requiredInProduction,
  runtimeEnv,
} from '#config';
import { runMain } from '#http';
import { CellDirectory, migrateDirectory } from '#persistence';
import { startCellRouter } from './router.js';

/**
 * `npm run cells:route`: the edge router of a deployment of several tenant cells
 * (docs/scaling.md). Settings from the environment:
 *   CELLS                         each cell's gateway: `a=http://127.0.0.1:3000,b=http://127.0.0.1:3100`
 *   CELL_DEFAULT                  the cell that answers requests naming no known tenant (the first)
 *   CELL_DIRECTORY_URL            the tenant → cell directory, as the apps' role
 *   CELL_DIRECTORY_MIGRATION_URL  set: create the directory's tables first, as their owner
 *   CELL_ROUTER_PORT              (3010)
 */
const routerEnv = {
  ...runtimeEnv,
  ...port('CELL_ROUTER_PORT', 3010),
  CELLS: list(),
  CELL_DEFAULT: optionalCellName(),
  CELL_DIRECTORY_URL: requiredInProduction(optionalUrl(['postgres', 'postgresql'])),
  ...cellDirectoryMigrationEnv,
};

runMain(async () => {
  const config = loadEnv(routerEnv);
  const cells = new Map<string, URL>();
  for (const entry of config.CELLS) {
    const [name, url] = entry.split('=', 2);
    if (!name || !url || !URL.canParse(url))
      throw new Error(`CELLS: "${entry}" is not name=http://host:port`);
    cells.set(name, new URL(url)); // names and schemes are checked by startCellRouter
  }
  if (cells.size === 0) throw new Error('CELLS: at least one cell, e.g. a=http://127.0.0.1:3000');
  const directoryUrl = config.CELL_DIRECTORY_URL ?? 'postgres://tally_app@127.0.0.1:5432/tally_directory';
  if (config.CELL_DIRECTORY_MIGRATION_URL) await migrateDirectory(config.CELL_DIRECTORY_MIGRATION_URL);
  const directory = CellDirectory.open(directoryUrl, 'tally-cell-router');
  const router = await startCellRouter({
    directory,
    cells,
    defaultCell: config.CELL_DEFAULT || [...cells.keys()][0],
    port: config.CELL_ROUTER_PORT,
    host: config.HTTP_HOST,
  });
  process.stdout.write(`${JSON.stringify({ listening: router.url, cells: Object.fromEntries(cells) })}\n`);
  const stop = () => void Promise.all([router.close(), directory.close()]).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});
