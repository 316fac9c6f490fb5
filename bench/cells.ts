/**
 * npm run bench:cells — the tenant cells of docs/scaling.md, measured on this machine: two cells,
 * each its own database, broker prefix, gateway and worker; the tenant → cell directory; the edge
 * router (tools/cell-router, in this process with the load generator). Transfers go through the
 * router, first for one cell's tenant alone, then for both cells' tenants at once. It prints, per
 * phase and cell, transfers accepted and completed per second and the accept p99, the machine's CPU
 * ms per transfer, and what the router and load generator (this process) used of it.
 *   BENCH_SECONDS (10)      each phase
 *   BENCH_CONCURRENCY (24)  clients per tenant
 *   BENCH_ACCOUNTS (200)    funded accounts per tenant
 */
import { cpus } from 'node:os';
import pg from 'pg';
import { hashApiKey } from '#domain';
import { CellDirectory, dropDatabase, migrateDirectory } from '#persistence';
import { startCellRouter } from '../tools/cell-router/src/router.js';
import {
  BenchApps,
  benchTenant,
  fmt,
  fundedAccounts,
  freshDatabase,
  machineBusySeconds,
  percentile,
  transfersDrained,
} from './bench-stack.js';
import { LoadConnection } from './load-connection.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 24);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 200);
const CELLS = ['a', 'b'] as const;
type CellName = (typeof CELLS)[number];

interface Cell {
  name: CellName;
  db: pg.Pool;
  apps: BenchApps;
  gateway: URL;
  apiKey: string;
  accounts: string[];
}

interface PhaseResult {
  cell: CellName;
  accepted: number;
  acceptedPerSecond: number;
  completedPerSecond: number;
  p99: number;
  errors: number;
}

async function main() {
  const directoryServer = new URL(
    process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  );
  directoryServer.pathname = '/tally_bench_directory';
  const directoryOwner = directoryServer.toString();
  const directoryApp = new URL(directoryOwner);
  directoryApp.username = 'tally_app';
  await dropDatabase(directoryOwner);
  await migrateDirectory(directoryOwner);
  const directory = CellDirectory.open(directoryApp.toString(), 'tally-bench-router');

  const cells: Cell[] = [];
  for (const name of CELLS) {
    const { ownerUrl, appUrl } = await freshDatabase(`tally_bench_cell_${name}`);
    const db = new pg.Pool({ connectionString: ownerUrl, max: 4 });
    const { tenantId, apiKey } = await benchTenant(db, `bench cell ${name}`);
    await directory.register(name, [tenantId], [{ tenantId, keyHash: hashApiKey(apiKey) }]);
    const accounts = await fundedAccounts(db, tenantId, ACCOUNTS);
    const apps = new BenchApps(appUrl);
    const gateway = await apps.start('gateway', 'GATEWAY_PORT');
    await apps.start('transaction-worker', 'WORKER_PORT');
    cells.push({ name, db, apps, gateway: new URL(gateway.url), apiKey, accounts });
  }
  const router = await startCellRouter({
    directory,
    cells: new Map(cells.map((c) => [c.name, c.gateway])),
    defaultCell: 'a',
    port: 0,
  });
  const routerUrl = new URL(router.url);

  let sequence = 0;
  /** CONCURRENCY clients of `cell`'s tenant posting transfers through the router for `seconds`. */
  const drive = async (cell: Cell, seconds: number) => {
    const connections = await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        LoadConnection.open(routerUrl.hostname, Number(routerUrl.port)),
      ),
    );
    const head =
      `POST /v1/transactions HTTP/1.1\r\nhost: ${routerUrl.host}\r\n` +
      `authorization: Bearer ${cell.apiKey}\r\ncontent-type: application/json\r\n`;
    const latencies: number[] = [];
    let errors = 0;
    const until = Date.now() + seconds * 1000;
    await Promise.all(
      connections.map(async (connection) => {
        while (Date.now() < until) {
          const i = Math.floor(Math.random() * ACCOUNTS);
          const a = cell.accounts[i];
          const b = cell.accounts[(i + 1 + Math.floor(Math.random() * (ACCOUNTS - 1))) % ACCOUNTS];
          const t0 = performance.now();
          const status = await connection.request(
            `${head}idempotency-key: cells-${sequence++}\r\n`,
            JSON.stringify({
              type: 'transfer',
              sourceAccountId: a,
              destinationAccountId: b,
              amount: 1,
              currency: 'USD',
            }),
          );
          if (status === 202) latencies.push(performance.now() - t0);
          else errors++;
        }
        connection.close();
      }),
    );
    return { latencies: latencies.sort((x, y) => x - y), errors };
  };
  const finalCount = async (cell: Cell) =>
    Number(
      (
        await cell.db.query(
          `SELECT count(*)::int AS n FROM transactions WHERE status IN ('succeeded', 'failed')`,
        )
      ).rows[0].n,
    );
  /** One phase: `busy` cells' tenants at once; each cell's figures and the CPU per transfer. */
  const phase = async (busy: Cell[]) => {
    const before = await Promise.all(busy.map(finalCount));
    const machineBefore = machineBusySeconds();
    const selfBefore = process.cpuUsage();
    const started = Date.now();
    const loads = await Promise.all(busy.map((cell) => drive(cell, SECONDS)));
    const ends = await Promise.all(busy.map((cell) => transfersDrained(cell.db, 100)));
    const machine = machineBusySeconds() - machineBefore;
    const self = process.cpuUsage(selfBefore);
    const after = await Promise.all(busy.map(finalCount));
    const results: PhaseResult[] = busy.map((cell, i) => ({
      cell: cell.name,
      accepted: loads[i].latencies.length,
      acceptedPerSecond: loads[i].latencies.length / SECONDS,
      completedPerSecond: (after[i] - before[i]) / ((ends[i] - started) / 1000),
      p99: percentile(loads[i].latencies, 99),
      errors: loads[i].errors,
    }));
    const transfers = results.reduce((sum, r) => sum + r.accepted, 0);
    return {
      results,
      machineMsPerTransfer: (machine * 1000) / transfers,
      routerAndLoadMsPerTransfer: (self.user + self.system) / 1000 / transfers,
    };
  };

  await phase(cells); // warm-up of both cells: connections, prepared statements, JIT
  const alone = await phase([cells[0]]);
  const both = await phase(cells);

  console.log(
    `Tally cells bench — ${SECONDS}s per phase, ${CONCURRENCY} clients per tenant, ${ACCOUNTS} accounts per tenant, transfers through the router (node ${process.version}, ${cpus().length} cores)`,
  );
  console.log('');
  console.log(
    '| phase | cell | accepted/s | completed/s | accept p99 ms | errors | machine CPU ms per transfer | router + load generator CPU ms per transfer |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [label, p] of [
    ['one cell busy', alone],
    ['both cells busy', both],
  ] as const) {
    for (const r of p.results)
      console.log(
        `| ${label} | ${r.cell} | ${fmt(r.acceptedPerSecond)} | ${fmt(r.completedPerSecond)} | ${fmt(r.p99)} | ${r.errors} | ${fmt(p.machineMsPerTransfer, 3)} | ${fmt(p.routerAndLoadMsPerTransfer, 3)} |`,
      );
  }
  const total = both.results.reduce((sum, r) => sum + r.completedPerSecond, 0);
  console.log(
    `| both cells busy | total | ${fmt(both.results.reduce((s, r) => s + r.acceptedPerSecond, 0))} | ${fmt(total)} | | | | |`,
  );
  console.log('');
  console.log(`routed: ${[...router.routed].map(([cell, n]) => `${cell} ${n}`).join(', ')}`);

  await router.close();
  await directory.close();
  for (const cell of cells) {
    await cell.apps.stop();
    await cell.db.end();
  }
  const errors = [...alone.results, ...both.results].reduce((sum, r) => sum + r.errors, 0);
  if (errors > 0) {
    console.error(`${errors} transfers were not accepted`);
    process.exitCode = 1;
  }
}

await main();
