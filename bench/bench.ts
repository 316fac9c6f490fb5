/**
 * npm run bench — drives transfers through the real gateway and worker at a fixed concurrency for
 * a fixed time, and the same ledger transfer by direct SQL (the raw baseline), then prints:
 * accepted/s, accept latency p50/p99, end-to-end throughput and latency p50/p99, CPU and peak
 * memory of each app, and end-to-end ÷ raw.
 *   BENCH_SECONDS (20)  BENCH_CONCURRENCY (32)  BENCH_ACCOUNTS (200)  BENCH_POOL (20, per app)
 *   BENCH_WARMUP_SECONDS (10): the same load first, not counted (cold JIT, new connections and
 *   their prepared statements), then drained; the raw baseline warms up the same way. The apps
 *   take about 8 s of this load to reach their steady rate on a slow phase of this machine
 *   (BENCH_TIMELINE; docs/performance.md), so 5 s left part of the climb in the measured run.
 *   BENCH_NODE_ARGS: extra node flags for the apps, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   BENCH_TIMELINE: print each second's accepted count and accept p50/p99, and the usage events
 *   accepted in each half second (to stderr)
 *   BENCH_USAGE_EVENTS (50000): metered usage events then sent in batches of 500 (4 at a time);
 *   prints events accepted/s and processed (priced and charged) /s.
 *   BENCH_PGBENCH_SECONDS (10): each pgbench run of the baseline (transfers one per commit at 8,
 *   16 and 32 clients, fifty per commit at 2, 4 and 8; the best of each is the baseline), after
 *   the apps stopped. BENCH_PGBENCH=off skips it.
 * It starts its own gateway and worker on a database of its own (tally_bench), from dist/.
 * `npm run bench -- flash-sale` (or BENCH_SCENARIO=flash-sale) runs bench/flash-sale.ts instead;
 * `npm run bench -- catalog` runs bench/catalog.ts (product reads, cache on and off).
 */
import http from 'node:http';
import { cpus } from 'node:os';
import pg from 'pg';
import { newId } from '#domain';
import {
  BenchApps,
  benchTenant,
  cpuSeconds,
  cpuSecondsOfCommand,
  fmt,
  freshDatabase,
  fundedAccounts,
  machineBusySeconds,
  peakRssMiB,
  percentile,
  transfersDrained,
} from './bench-stack.js';
import { LoadConnection } from './load-connection.js';
import { pgbenchBaseline } from './pgbench-baseline.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 200);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 10);

/** What the run's CPU is measured on, besides the two apps. */
const machineCpu = () => ({
  at: performance.now() / 1000,
  machine: machineBusySeconds(),
  postgres: cpuSecondsOfCommand('postgres'),
  rabbitmq: cpuSecondsOfCommand('beam.smp'),
});

async function main() {
  const { ownerUrl, appUrl } = await freshDatabase('tally_bench');
  const db = new pg.Pool({ connectionString: ownerUrl, max: CONCURRENCY + 2 });

  // A tenant, funded accounts (by direct SQL, balanced against the external account).
  const { tenantId, apiKey } = await benchTenant(db, 'bench');
  const key = { plaintext: apiKey };
  const ids = await fundedAccounts(db, tenantId, ACCOUNTS);

  const benchApps = new BenchApps(appUrl);
  const gateway = await benchApps.start('gateway', 'GATEWAY_PORT');
  const worker = await benchApps.start('transaction-worker', 'WORKER_PORT');
  const apps = { gateway: gateway.child.pid!, 'transaction-worker': worker.child.pid! };
  // HTTP load: CONCURRENCY clients posting random transfers between the funded accounts.
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const gatewayUrl = new URL(gateway.url);
  const post = (body: string, idempotencyKey: string, path = '/v1/transactions') =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: gatewayUrl.hostname,
          port: gatewayUrl.port,
          path,
          method: 'POST',
          headers: {
            authorization: `Bearer ${key.plaintext}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'idempotency-key': idempotencyKey,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let n = 0;
  const connections = await Promise.all(
    Array.from({ length: CONCURRENCY }, () =>
      LoadConnection.open(gatewayUrl.hostname, Number(gatewayUrl.port)),
    ),
  );
  const transferHead =
    `POST /v1/transactions HTTP/1.1\r\nhost: ${gatewayUrl.host}\r\n` +
    `authorization: Bearer ${key.plaintext}\r\ncontent-type: application/json\r\n`;
  /** Transfers for `seconds`; each accepted one's latency, with the second of the run it started in. */
  const driveTransfers = async (seconds: number) => {
    const accepts: { second: number; ms: number }[] = [];
    let errors = 0;
    const started = Date.now();
    const until = started + seconds * 1000;
    await Promise.all(
      connections.map(async (connection) => {
        while (Date.now() < until) {
          const a = ids[Math.floor(Math.random() * ACCOUNTS)];
          let b = ids[Math.floor(Math.random() * ACCOUNTS)];
          if (a === b) b = ids[(ids.indexOf(a) + 1) % ACCOUNTS];
          const t0 = performance.now();
          const second = Math.floor((Date.now() - started) / 1000);
          const status = await connection.request(
            `${transferHead}idempotency-key: b-${n++}\r\n`,
            JSON.stringify({
              type: 'transfer',
              sourceAccountId: a,
              destinationAccountId: b,
              amount: 1 + (n % 100),
              currency: 'USD',
            }),
          );
          if (status === 202) accepts.push({ second, ms: performance.now() - t0 });
          else errors++;
        }
      }),
    );
    const latencies = accepts.map((a) => a.ms).sort((x, y) => x - y);
    const bySecond = new Map<number, number[]>();
    for (const a of accepts) {
      const list = bySecond.get(a.second);
      if (list) list.push(a.ms);
      else bySecond.set(a.second, [a.ms]);
    }
    if (process.env.BENCH_TIMELINE) {
      for (const [second, l] of [...bySecond.entries()].sort(([x], [y]) => x - y)) {
        const sorted = [...l].sort((x, y) => x - y);
        console.error(
          `[bench] second ${second}: ${l.length} accepted, p50 ${fmt(percentile(sorted, 50), 1)} ms, p99 ${fmt(percentile(sorted, 99), 1)} ms`,
        );
      }
    }
    const worstSecondP99 = Math.max(
      ...[...bySecond.values()].map((l) =>
        percentile(
          l.sort((x, y) => x - y),
          99,
        ),
      ),
    );
    return { latencies, errors, seconds: (Date.now() - started) / 1000, worstSecondP99 };
  };
  /** Waits for every accepted transfer to finish. */
  const drained = () => transfersDrained(db);

  const warmup = await driveTransfers(WARMUP_SECONDS);
  await drained();
  const appCpu = () => Object.fromEntries(Object.entries(apps).map(([n, pid]) => [n, cpuSeconds(pid)]));
  const cpuBefore = appCpu();
  const machineBefore = machineCpu();
  const measuredFrom = new Date();
  // Postgres's side: WAL written and checkpoints begun while the measured run went on.
  const walState = async () =>
    (
      await db.query(
        `SELECT pg_current_wal_lsn()::text AS lsn, (checkpoints_timed + checkpoints_req)::int AS checkpoints
           FROM pg_stat_bgwriter`,
      )
    ).rows[0] as { lsn: string; checkpoints: number };
  const walBefore = await walState();
  const statsBefore = await postgresCounters(db);
  const load = await driveTransfers(SECONDS);
  await drained();
  const walAfter = await walState();
  const statsAfter = await postgresCounters(db);
  const machineAfter = machineCpu();
  // Where the run's WAL lies, to break it down: pg_waldump --stats=record -s <from> -e <to> -p <pg_wal>.
  console.error(`[bench] WAL of the measured run: ${walBefore.lsn} .. ${walAfter.lsn}`);
  const { rows: walRows } = await db.query(`SELECT pg_wal_lsn_diff($1, $2)::float8 AS bytes`, [
    walAfter.lsn,
    walBefore.lsn,
  ]);
  const { rows: e2e } = await db.query(
    `SELECT count(*)::int AS done,
            count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
            EXTRACT(EPOCH FROM max(completed_at) - min(created_at))::float8 AS span,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - created_at))::float8 * 1000 AS p50,
            percentile_disc(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - created_at))::float8 * 1000 AS p99
       FROM transactions WHERE created_at >= $1`,
    [measuredFrom],
  );
  const cpu = Object.fromEntries(Object.entries(apps).map(([n, pid]) => [n, cpuSeconds(pid) - cpuBefore[n]]));
  const rss = Object.fromEntries(Object.entries(apps).map(([n, pid]) => [n, peakRssMiB(pid)]));

  // Usage: metered events in batches of 500, each charged to one of the funded wallets.
  const usageEvents = Number(process.env.BENCH_USAGE_EVENTS ?? 50_000);
  await db.query(
    `INSERT INTO meters (id, tenant_id, event_type, aggregation, property, unit_price, currency)
     VALUES ($1, $2, 'tokens', 'sum', 'count', 2, 'USD')`,
    [newId('mtr'), tenantId],
  );
  const batches = Math.ceil(usageEvents / 500);
  let nextBatch = 0;
  let usageRefused = 0;
  /** Events accepted in each half second of the accept (BENCH_TIMELINE). */
  const usagePerHalfSecond = new Map<number, number>();
  const usageStart = Date.now();
  const usageCpuBefore = { ...machineCpu(), ...appCpu() };
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (nextBatch < batches) {
        const b = nextBatch++;
        const events = Array.from({ length: Math.min(500, usageEvents - b * 500) }, (_, i) => ({
          id: `u-${b}-${i}`,
          type: 'tokens',
          accountId: ids[(b * 500 + i) % ACCOUNTS],
          properties: { count: 1 + (i % 50) },
        }));
        const status = await post(JSON.stringify({ events }), `u-${b}`, '/v1/events');
        if (status !== 202) usageRefused++;
        else {
          const half = Math.floor((Date.now() - usageStart) / 500);
          usagePerHalfSecond.set(half, (usagePerHalfSecond.get(half) ?? 0) + events.length);
        }
      }
    }),
  );
  const usageAcceptSeconds = (Date.now() - usageStart) / 1000;
  if (process.env.BENCH_TIMELINE) {
    for (const [half, count] of [...usagePerHalfSecond].sort(([x], [y]) => x - y))
      console.error(
        `[bench] usage ${fmt(half / 2, 1)}-${fmt(half / 2 + 0.5, 1)} s: ${count} events accepted`,
      );
  }
  for (;;) {
    const { rows } = await db.query(
      // An index probe (usage_events_open_list_idx), not a count: a count of the whole table every
      // 100 ms took a tenth of Postgres's time from the worker it measures.
      `SELECT EXISTS (SELECT 1 FROM usage_events WHERE tenant_id = $1 AND status = 'received') AS open`,
      [tenantId],
    );
    if (!rows[0].open) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const usageSeconds = (Date.now() - usageStart) / 1000;
  const usageCpuAfter = { ...machineCpu(), ...appCpu() };
  const { rows: usageRows } = await db.query(
    `SELECT count(*)::int AS charged FROM usage_processed WHERE billing_status = 'charged'`,
  );
  await benchApps.stop();

  // Raw baseline: the same transfer (locks in id order, balances, two entries, the transaction row)
  // by direct SQL from this process at the same concurrency, warmed up like the apps.
  const rawTransfers = async (seconds: number) => {
    let raw = 0;
    const rawUntil = Date.now() + seconds * 1000;
    const rawStart = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        const client = await db.connect();
        try {
          while (Date.now() < rawUntil) {
            const a = ids[Math.floor(Math.random() * ACCOUNTS)];
            let b = ids[Math.floor(Math.random() * ACCOUNTS)];
            if (a === b) b = ids[(ids.indexOf(a) + 1) % ACCOUNTS];
            const amount = 1 + (raw % 100);
            const id = newId('txn');
            await client.query('BEGIN');
            const { rows } = await client.query(
              `SELECT id, posted FROM accounts WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`,
              [[a, b]],
            );
            const from = rows.find((r) => r.id === a);
            const to = rows.find((r) => r.id === b);
            await client.query(
              `INSERT INTO transactions (id, tenant_id, type, status, amount, currency, source_account_id, destination_account_id, completed_at)
             VALUES ($1, $2, 'transfer', 'succeeded', $3, 'USD', $4, $5, now())`,
              [id, tenantId, amount, a, b],
            );
            await client.query(
              `UPDATE accounts a SET posted = a.posted + d.amt FROM unnest($1::text[], $2::bigint[]) d(id, amt) WHERE a.id = d.id`,
              [
                [a, b],
                [-amount, amount],
              ],
            );
            await client.query(
              `INSERT INTO ledger_entries (id, tenant_id, transaction_id, account_id, amount, balance_after, currency)
             VALUES ($1, $3, $4, $5, $6, $7, 'USD'), ($2, $3, $4, $8, $9, $10, 'USD')`,
              [
                newId('ent'),
                newId('ent'),
                tenantId,
                id,
                a,
                -amount,
                BigInt(from.posted) - BigInt(amount),
                b,
                amount,
                BigInt(to.posted) + BigInt(amount),
              ],
            );
            await client.query('COMMIT');
            raw++;
          }
        } finally {
          client.release();
        }
      }),
    );
    return raw / ((Date.now() - rawStart) / 1000);
  };
  await rawTransfers(WARMUP_SECONDS);
  const rawPerSecond = await rawTransfers(SECONDS);
  const pgbenchSeconds = Number(process.env.BENCH_PGBENCH_SECONDS ?? 10);
  const pgbench =
    process.env.BENCH_PGBENCH === 'off'
      ? []
      : [
          await pgbenchBaseline(db, ownerUrl, tenantId, ids, 1, [8, 16, 32], pgbenchSeconds),
          await pgbenchBaseline(db, ownerUrl, tenantId, ids, 50, [2, 4, 8], pgbenchSeconds),
        ];
  await db.end();
  agent.destroy();
  for (const connection of connections) connection.close();

  const accepted = load.latencies.length;
  const sorted = load.latencies;
  const e = e2e[0];
  const e2ePerSecond = e.done / e.span;
  console.log('');
  console.log(
    `Tally bench — ${SECONDS}s (after ${WARMUP_SECONDS}s of warm-up) at concurrency ${CONCURRENCY}, ${ACCOUNTS} accounts, transfers (node ${process.version}, ${cpus().length} cores)`,
  );
  console.log('| measure | value |');
  console.log('| --- | --- |');
  console.log(
    `| warm-up, not counted: accepted, accept p99 (ms) | ${warmup.latencies.length} (${warmup.errors} refused or failed), ${fmt(percentile(warmup.latencies, 99), 2)} |`,
  );
  console.log(`| accepted | ${accepted} (${load.errors} refused or failed) |`);
  console.log(`| accepted/s | ${fmt(accepted / load.seconds)} |`);
  console.log(
    `| accept latency p50 / p99 (ms) | ${fmt(percentile(sorted, 50), 2)} / ${fmt(percentile(sorted, 99), 2)} |`,
  );
  console.log(`| accept latency p99 in the worst second (ms) | ${fmt(load.worstSecondP99, 2)} |`);
  console.log(
    `| end-to-end (accepted → succeeded) /s | ${fmt(e2ePerSecond)} (${e.succeeded} succeeded of ${e.done}) |`,
  );
  console.log(`| end-to-end latency p50 / p99 (ms) | ${fmt(e.p50)} / ${fmt(e.p99)} |`);
  for (const name of Object.keys(apps)) {
    console.log(
      `| ${name}: CPU (s, % of one core) / peak RSS (MiB) | ${fmt(cpu[name])} (${fmt((100 * cpu[name]) / e.span, 0)}%) / ${fmt(rss[name], 0)} |`,
    );
  }
  const used = (k: keyof typeof machineAfter) => machineAfter[k] - machineBefore[k];
  console.log(
    `| Postgres / RabbitMQ: CPU (s, % of one core) | ${fmt(used('postgres'))} (${fmt((100 * used('postgres')) / used('at'), 0)}%) / ${fmt(used('rabbitmq'))} (${fmt((100 * used('rabbitmq')) / used('at'), 0)}%) |`,
  );
  console.log(
    `| whole machine: CPU busy (% of ${cpus().length} cores) / CPU ms per transfer | ${fmt((100 * used('machine')) / used('at') / cpus().length, 0)}% / ${fmt((1000 * used('machine')) / e.done, 2)} |`,
  );
  console.log(
    `| Postgres: WAL per transfer (KiB) / checkpoints begun during the run | ${fmt(walRows[0].bytes / 1024 / e.done, 1)} / ${walAfter.checkpoints - walBefore.checkpoints} |`,
  );
  const xacts = statsAfter.xacts - statsBefore.xacts;
  const statements =
    statsAfter.statements === null || statsBefore.statements === null
      ? 'n/a (pg_stat_statements not loaded)'
      : fmt((statsAfter.statements - statsBefore.statements) / e.done, 1);
  console.log(
    `| Postgres: transactions / statements (round trips) per transfer, both apps | ${fmt(xacts / e.done, 2)} / ${statements} |`,
  );
  console.log(`| raw baseline (direct SQL transfers from Node, node-postgres)/s | ${fmt(rawPerSecond)} |`);
  console.log(`| end-to-end ÷ raw | ${fmt(e2ePerSecond / rawPerSecond, 2)} |`);
  for (const p of pgbench) {
    const tried = p.tried.map((t) => `${t.clients}: ${fmt(t.transfersPerSecond)}`).join(', ');
    console.log(
      `| pgbench baseline, ${p.perCommit} per commit: transfers/s (best client count; tried) / round trips per transfer | ${fmt(p.transfersPerSecond)} (${p.clients} clients; ${tried}) / ${fmt(p.roundTripsPerTransfer, 2)} |`,
    );
    console.log(
      `| end-to-end ÷ pgbench ${p.perCommit} per commit | ${fmt(e2ePerSecond / p.transfersPerSecond, 2)} |`,
    );
  }
  console.log(
    `| usage events accepted/s (batches of 500) | ${fmt(usageEvents / usageAcceptSeconds)} (${usageRefused} batches refused) |`,
  );
  console.log(
    `| usage events processed and charged /s | ${fmt(usageEvents / usageSeconds)} (${usageRows[0].charged} charged of ${usageEvents}) |`,
  );
  // Where a usage event's CPU goes, accept to charged: the ceiling the machine puts on the rate.
  const usageCpu = (k: string) =>
    fmt(
      (1000 *
        ((usageCpuAfter as Record<string, number>)[k]! - (usageCpuBefore as Record<string, number>)[k]!)) /
        usageEvents,
      3,
    );
  console.log(
    `| usage: CPU ms per event — machine (busy % of ${cpus().length} cores) / gateway / worker / Postgres / RabbitMQ | ${usageCpu('machine')} (${fmt((100 * (usageCpuAfter.machine - usageCpuBefore.machine)) / usageSeconds / cpus().length, 0)}%) / ${usageCpu('gateway')} / ${usageCpu('transaction-worker')} / ${usageCpu('postgres')} / ${usageCpu('rabbitmq')} |`,
  );
  process.exit(0);
}

/**
 * Transactions committed or rolled back in this database, and statements run (pg_stat_statements,
 * when the server loads it), for the per-transfer figures. Postgres publishes a backend's counts
 * within a second of its transaction: wait that out first.
 */
async function postgresCounters(db: pg.Pool): Promise<{ xacts: number; statements: number | null }> {
  await new Promise((r) => setTimeout(r, 1_100));
  const { rows } = await db.query(
    `SELECT (xact_commit + xact_rollback)::float8 AS xacts FROM pg_stat_database WHERE datname = current_database()`,
  );
  let statements: number | null = null;
  const { rows: loaded } = await db.query(
    `SELECT 'pg_stat_statements' = ANY(string_to_array(current_setting('shared_preload_libraries'), ', ')) AS yes`,
  );
  if (loaded[0].yes) {
    await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const { rows: calls } = await db.query(
      `SELECT coalesce(sum(calls), 0)::float8 AS n FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    statements = calls[0].n;
  }
  return { xacts: rows[0].xacts, statements };
}

// `npm run bench -- flash-sale [flags]` or BENCH_SCENARIO=flash-sale: the flash sale of
// bench/flash-sale.ts; `catalog`: the product reads of bench/catalog.ts; no scenario: the transfers and usage figures above.
const [scenarioArgument, ...scenarioFlags] = process.argv.slice(2);
const scenario = scenarioArgument?.startsWith('-')
  ? process.env.BENCH_SCENARIO
  : (scenarioArgument ?? process.env.BENCH_SCENARIO);
const flags = scenarioArgument?.startsWith('-') ? process.argv.slice(2) : scenarioFlags;
const run =
  scenario === 'flash-sale'
    ? import('./flash-sale.js').then(({ flashSale }) => flashSale(flags)).then((code) => process.exit(code))
    : scenario === 'catalog'
      ? import('./catalog.js').then(({ catalog }) => catalog(flags)).then((code) => process.exit(code))
      : scenario
        ? Promise.reject(new Error(`unknown bench scenario "${scenario}"; use flash-sale, catalog, or none`))
        : main();
run.catch((error) => {
  console.error(error);
  process.exit(1);
});
