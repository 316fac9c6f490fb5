/**
 * npm run bench -- flash-sale [--buyers 2000] [--stock 100] [--concurrency 200]
 *                              [--strategies pessimistic,distributed,optimistic]
 * (or BENCH_SCENARIO=flash-sale npm run bench, with BENCH_BUYERS, BENCH_STOCK, BENCH_CONCURRENCY,
 * BENCH_STRATEGIES).
 *
 * A flash sale through HTTP against the real apps: `buyers` funded accounts each order one unit of
 * one product that has `stock` units, `concurrency` requests in flight at once, once per inventory
 * locking strategy. Each strategy gets a gateway started afresh with INVENTORY_LOCKING set to it, a
 * tenant and a product of its own, and a warm-up (orders for another product, not counted). The
 * transaction-worker (which completes the orders) runs throughout. After each race it waits until
 * the worker has completed the winners' orders and checks from the database that nothing was
 * oversold: reserved + sold ≤ received, the reserved units are the live orders' and the sold ones
 * the completed orders', one order per 201, and only the winners paid. Then `ledger:verify` over
 * the whole database. Exit 1 when any check fails.
 *
 * It prints, per strategy: orders answered per second, latency of the 201s (accept) and of every
 * answer, how many got 201 / 409 out_of_stock / something else (by status and code), units sold;
 * and, measured while the race ran, the gateway's CPU per order, Redis commands per order and how
 * many Postgres sessions waited on a lock. Database tally_bench_flash, dropped and migrated
 * afresh. Every gateway gets the same Redis (rate limits, and the lock of `distributed`): a
 * redis-server of the bench's own on a free port, or REDIS_URL when it is set.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  BenchApps,
  benchTenant,
  cpuSeconds,
  fmt,
  freshDatabase,
  machineBusySeconds,
  percentile,
  repoRoot,
  type BenchApp,
} from './bench-stack.js';
import { freePort } from '#test-support';
import { LoadConnection } from './load-connection.js';

const STRATEGIES = ['pessimistic', 'distributed', 'optimistic'] as const;
type Strategy = (typeof STRATEGIES)[number];

const FUNDING = 10_000;
const PRICE = 1_000;
const WARMUP_ORDERS = 200;
/** In flight during the warm-up: its orders share one buyer, and are there to warm, not to race. */
const WARMUP_CONCURRENCY = 20;

interface Options {
  buyers: number;
  stock: number;
  concurrency: number;
  strategies: Strategy[];
  redisUrl: string;
  /** The Redis is the bench's own: its command counts are the run's alone. */
  ownRedis: boolean;
}

interface StrategyResult {
  strategy: Strategy;
  ordersPerSecond: number;
  raceSeconds: number;
  acceptMs: number[];
  answerMs: number[];
  created: number;
  outOfStock: number;
  other: Map<string, number>;
  unitsSold: number;
  oversold: number;
  problems: string[];
  note: string;
  /** While the race ran: the gateway's CPU, Redis commands, Postgres sessions waiting on a lock. */
  gatewayCpuMsPerOrder: number;
  redisCallsPerOrder: number | null;
  lockWaiters: { mean: number; max: number };
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      buyers: { type: 'string', default: process.env.BENCH_BUYERS ?? '2000' },
      stock: { type: 'string', default: process.env.BENCH_STOCK ?? '100' },
      concurrency: { type: 'string', default: process.env.BENCH_CONCURRENCY ?? '200' },
      strategies: { type: 'string', default: process.env.BENCH_STRATEGIES ?? STRATEGIES.join(',') },
    },
  });
  const positive = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`--${name} must be a positive integer, not "${value}"`);
    return n;
  };
  const strategies = values.strategies!.split(',').map((s) => s.trim());
  for (const s of strategies) {
    if (!STRATEGIES.includes(s as Strategy))
      throw new Error(`unknown strategy "${s}"; use ${STRATEGIES.join(', ')}`);
  }
  return {
    buyers: positive('buyers', values.buyers!),
    stock: positive('stock', values.stock!),
    concurrency: positive('concurrency', values.concurrency!),
    strategies: strategies as Strategy[],
    redisUrl: process.env.REDIS_URL ?? '',
    ownRedis: false,
  };
}

/** Runs `task` for 0..count-1 on the connections, one request in flight on each. */
async function onConnections<T>(
  connections: LoadConnection[],
  count: number,
  task: (connection: LoadConnection, i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    connections.map(async (connection) => {
      while (next < count) {
        const i = next++;
        results[i] = await task(connection, i);
      }
    }),
  );
  return results;
}

/** Total commands a Redis has served (INFO commandstats), or null when it cannot be asked. */
async function redisCalls(url: string): Promise<number | null> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const stats = await redis.info('commandstats');
    return [...stats.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

/**
 * A redis-server of the bench's own on a free port (no persistence), so that its command counts
 * are this run's; null when redis-server is not installed.
 */
export async function startRedis(): Promise<{ url: string; stop: () => void } | null> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const failed = new Promise<null>((resolve) => child.once('error', () => resolve(null)));
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    if (await Promise.race([redisAnswers(url), failed])) return { url, stop: () => child.kill('SIGTERM') };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  return null;
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

const progress = (line: string) => console.error(`[flash-sale] ${line}`);

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function flashSale(argv: string[]): Promise<number> {
  const opts = options(argv);
  const ownRedis = opts.redisUrl ? null : await startRedis();
  opts.redisUrl ||= ownRedis?.url ?? 'redis://127.0.0.1:6379';
  opts.ownRedis = ownRedis !== null;
  const { ownerUrl, appUrl } = await freshDatabase('tally_bench_flash');
  const db = new pg.Pool({ connectionString: ownerUrl, max: 4 });
  const apps = new BenchApps(appUrl);
  // Ctrl-C or a kill ends the apps (and the Redis) this run started, not only the bench.
  const interrupted = async () => {
    await apps.stop().catch(() => undefined);
    ownRedis?.stop();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const results: StrategyResult[] = [];
  const redisUp = await redisAnswers(opts.redisUrl);
  const busyAt = { at: performance.now() / 1000, machine: machineBusySeconds() };
  try {
    await apps.start('transaction-worker', 'WORKER_PORT');
    for (const strategy of opts.strategies) {
      const gateway = await apps.start('gateway', 'GATEWAY_PORT', {
        INVENTORY_LOCKING: strategy,
        REDIS_URL: opts.redisUrl,
        REDIS_KEY_PREFIX: `bench-flash-${randomBytes(3).toString('hex')}:`,
      });
      try {
        results.push(await race(db, gateway, strategy, opts));
      } finally {
        await apps.stopApp(gateway);
      }
      if (strategy === 'distributed' && !redisUp) {
        results[results.length - 1].note += ' Redis did not answer: every order took the row-lock fallback.';
      }
    }
  } finally {
    await apps.stop();
    ownRedis?.stop();
  }
  const busy = (100 * (machineBusySeconds() - busyAt.machine)) / (performance.now() / 1000 - busyAt.at);
  const ledger = verifyLedger(appUrl);
  await db.end();

  console.log('');
  console.log(
    `Tally flash sale — ${opts.buyers} buyers, one order of 1 unit each, ${opts.stock} units, ` +
      `${opts.concurrency} requests in flight (node ${process.version}, ${cpus().length} cores, ` +
      `machine ${fmt(busy / cpus().length, 0)}% busy over the run)`,
  );
  console.log(
    '| strategy | orders/s | accept (201) p50 / p99 (ms) | every answer p50 / p99 (ms) | 201 | 409 out_of_stock | other | units sold | oversold |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |');
  for (const r of results) {
    const accept = [...r.acceptMs].sort((a, b) => a - b);
    const answers = [...r.answerMs].sort((a, b) => a - b);
    const other = [...r.other.entries()].map(([k, n]) => `${n} × ${k}`).join(', ') || '0';
    console.log(
      `| ${r.strategy} | ${fmt(r.ordersPerSecond, 0)} | ${fmt(percentile(accept, 50))} / ${fmt(percentile(accept, 99))} | ` +
        `${fmt(percentile(answers, 50))} / ${fmt(percentile(answers, 99))} | ${r.created} | ${r.outOfStock} | ${other} | ` +
        `${r.unitsSold} | ${r.oversold} |`,
    );
  }
  console.log('');
  console.log(
    `| while racing | gateway CPU ms per order | Redis commands per order${opts.ownRedis ? '' : ' (shared Redis: others count too)'} | Postgres sessions waiting on a lock, mean / max |`,
  );
  console.log('| --- | ---: | ---: | ---: |');
  for (const r of results) {
    console.log(
      `| ${r.strategy} | ${fmt(r.gatewayCpuMsPerOrder, 2)} | ${r.redisCallsPerOrder === null ? '-' : fmt(r.redisCallsPerOrder, 1)} | ` +
        `${fmt(r.lockWaiters.mean, 1)} / ${r.lockWaiters.max} |`,
    );
  }
  for (const r of results) {
    console.log(`${r.strategy}: race ${fmt(r.raceSeconds, 2)} s.${r.note}`);
    for (const problem of r.problems) console.log(`${r.strategy}: CHECK FAILED — ${problem}`);
  }
  console.log(ledger.ok ? 'ledger:verify passed' : `ledger:verify FAILED\n${ledger.report}`);
  const failed = !ledger.ok || results.some((r) => r.oversold !== 0 || r.problems.length > 0);
  if (failed) console.log('flash sale: FAILED (see above)');
  return failed ? 1 : 0;
}

/** One strategy's sale: set-up, warm-up, the race, the worker's completions, the checks. */
async function race(
  db: pg.Pool,
  gateway: BenchApp,
  strategy: Strategy,
  opts: Options,
): Promise<StrategyResult> {
  const { tenantId, apiKey } = await benchTenant(db, `flash-${strategy}`);
  const url = new URL(gateway.url);
  const connections = await Promise.all(
    Array.from({ length: opts.concurrency }, () => LoadConnection.open(url.hostname, Number(url.port))),
  );
  const head = (route: string, key?: string) =>
    `POST ${route} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${apiKey}\r\n` +
    `content-type: application/json\r\n${key ? `idempotency-key: ${key}\r\n` : ''}`;
  const call = async (connection: LoadConnection, route: string, body: unknown, key?: string) => {
    const answer = await connection.exchange(head(route, key), JSON.stringify(body));
    const text = answer.body.toString('utf8');
    if (answer.status >= 300) throw new Error(`POST ${route}: ${answer.status} ${text}`);
    return JSON.parse(text) as { id: string };
  };
  const openTransactions = async () =>
    Number(
      (
        await db.query(
          `SELECT count(*) AS n FROM transactions WHERE tenant_id = $1 AND status NOT IN ('succeeded', 'failed')`,
          [tenantId],
        )
      ).rows[0].n,
    );
  const reservedOrders = async () =>
    Number(
      (
        await db.query(`SELECT count(*) AS n FROM orders WHERE tenant_id = $1 AND status = 'reserved'`, [
          tenantId,
        ])
      ).rows[0].n,
    );
  try {
    // Buyers (and one warm-up buyer), funded through the API so the ledger adds up.
    const accounts = await onConnections(
      connections,
      opts.buyers + 1,
      async (c) => (await call(c, '/v1/accounts', { currency: 'USD' })).id,
    );
    const warmupBuyer = accounts.pop()!;
    await onConnections(connections, accounts.length + 1, (c, i) =>
      call(
        c,
        '/v1/transactions',
        {
          type: 'deposit',
          destinationAccountId: accounts[i] ?? warmupBuyer,
          amount: accounts[i] ? FUNDING : WARMUP_ORDERS * PRICE,
          currency: 'USD',
        },
        `fund-${i}`,
      ),
    );
    await until('the deposits', async () => (await openTransactions()) === 0);
    progress(`${strategy}: ${opts.buyers} buyers funded`);
    const product = (sku: string, stock: number) =>
      call(connections[0], '/v1/products', {
        sku,
        name: `Flash ${sku}`,
        price: PRICE,
        currency: 'USD',
        stock,
      });

    // Warm-up: the order path of a fresh gateway (JIT, connections, prepared statements), not counted.
    const warm = (await product('warm-up', WARMUP_ORDERS)).id;
    const warmStarted = performance.now();
    const warmup = await onConnections(
      connections.slice(0, WARMUP_CONCURRENCY),
      WARMUP_ORDERS,
      async (c, i) => {
        const body = JSON.stringify({ accountId: warmupBuyer, items: [{ productId: warm, quantity: 1 }] });
        return (await c.exchange(head('/v1/orders', `warm-${i}`), body)).status;
      },
    );
    const warmupRefused = warmup.filter((status) => status !== 201).length;
    progress(
      `${strategy}: warm-up, ${WARMUP_ORDERS} orders in ${fmt((performance.now() - warmStarted) / 1000, 2)} s, ${warmupRefused} refused`,
    );
    await until('the warm-up orders', async () => (await reservedOrders()) === 0);

    // The race: every buyer one order of one unit, `concurrency` in flight.
    const lamp = (await product('flash-lamp', opts.stock)).id;
    const outcomes: { status: number; code: string; ms: number }[] = [];
    // Sampled while the race runs: sessions of the bench's database waiting on a lock (row locks
    // show as `Lock` / `transactionid` or `tuple`).
    const waiters: number[] = [];
    let racing = true;
    const sampling = (async () => {
      while (racing) {
        const { rows } = await db.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        waiters.push(rows[0].n);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const cpuBefore = cpuSeconds(gateway.child.pid!);
    const redisBefore = await redisCalls(opts.redisUrl);
    const started = performance.now();
    await onConnections(connections, accounts.length, async (c, i) => {
      const body = JSON.stringify({ accountId: accounts[i], items: [{ productId: lamp, quantity: 1 }] });
      const t0 = performance.now();
      const answer = await c.exchange(head('/v1/orders', `flash-${i}`), body);
      const ms = performance.now() - t0;
      let code = '';
      if (answer.status !== 201) {
        try {
          code = String((JSON.parse(answer.body.toString('utf8')) as { code?: string }).code ?? '');
        } catch {
          code = 'not json';
        }
      }
      outcomes.push({ status: answer.status, code, ms });
    });
    const raceSeconds = (performance.now() - started) / 1000;
    const gatewayCpu = cpuSeconds(gateway.child.pid!) - cpuBefore;
    const redisAfter = await redisCalls(opts.redisUrl);
    racing = false;
    await sampling;
    progress(`${strategy}: race of ${outcomes.length} orders in ${fmt(raceSeconds, 2)} s`);
    await until('the worker to complete the orders', async () => (await reservedOrders()) === 0);

    const created = outcomes.filter((o) => o.status === 201);
    const outOfStock = outcomes.filter((o) => o.status === 409 && o.code === 'out_of_stock');
    const other = new Map<string, number>();
    for (const o of outcomes) {
      if (o.status === 201 || (o.status === 409 && o.code === 'out_of_stock')) continue;
      const k = `${o.status} ${o.code}`.trim();
      other.set(k, (other.get(k) ?? 0) + 1);
    }
    const checked = await check(db, tenantId, lamp, accounts, created.length);
    let note = warmupRefused ? ` Warm-up: ${warmupRefused} of ${WARMUP_ORDERS} orders refused.` : '';
    if (strategy === 'distributed') {
      // The fence moves only when an order writes under a Redis lock; the fallback leaves it.
      note +=
        checked.fence > 0
          ? ` Redis lock fence at ${checked.fence} (orders wrote under the Redis lock).`
          : ' Fence still 0: no order took the Redis lock (row-lock fallback).';
    }
    return {
      strategy,
      ordersPerSecond: outcomes.length / raceSeconds,
      gatewayCpuMsPerOrder: (1000 * gatewayCpu) / outcomes.length,
      redisCallsPerOrder:
        redisBefore === null || redisAfter === null
          ? null
          : // less the two INFO calls of this measurement
            (redisAfter - redisBefore - 1) / outcomes.length,
      lockWaiters: {
        mean: waiters.reduce((a, b) => a + b, 0) / Math.max(1, waiters.length),
        max: Math.max(0, ...waiters),
      },
      raceSeconds,
      acceptMs: created.map((o) => o.ms),
      answerMs: outcomes.map((o) => o.ms),
      created: created.length,
      outOfStock: outOfStock.length,
      other,
      unitsSold: checked.sold,
      oversold: checked.oversold,
      problems: checked.problems,
      note,
    };
  } finally {
    for (const connection of connections) connection.close();
  }
}

/** What the database says after the worker is done: nothing oversold, only the winners paid. */
async function check(db: pg.Pool, tenantId: string, productId: string, buyers: string[], created: number) {
  const problems: string[] = [];
  const [p] = (
    await db.query(
      `SELECT stock_received::int AS received, stock_reserved::int AS reserved, stock_sold::int AS sold,
              lock_fence::int AS fence
         FROM products WHERE id = $1`,
      [productId],
    )
  ).rows as { received: number; reserved: number; sold: number; fence: number }[];
  const [o] = (
    await db.query(
      `SELECT count(*)::int AS orders,
              coalesce(sum(i.quantity) FILTER (WHERE o.status = 'reserved'), 0)::int AS reserved_units,
              coalesce(sum(i.quantity) FILTER (WHERE o.status = 'completed'), 0)::int AS completed_units,
              count(*) FILTER (WHERE o.status NOT IN ('reserved', 'completed'))::int AS not_live
         FROM orders o JOIN order_items i ON i.order_id = o.id
        WHERE i.product_id = $1`,
      [productId],
    )
  ).rows as { orders: number; reserved_units: number; completed_units: number; not_live: number }[];
  const [money] = (
    await db.query(
      `SELECT count(*) FILTER (WHERE a.posted <> $3 - coalesce(paid.total, 0) OR a.held <> 0)::int AS wrong,
              coalesce(sum($3 - a.posted), 0)::bigint::text AS spent
         FROM accounts a
         LEFT JOIN (SELECT account_id, sum(total) AS total FROM orders
                     WHERE tenant_id = $1 AND status = 'completed' GROUP BY account_id) paid
                ON paid.account_id = a.id
        WHERE a.id = ANY($2)`,
      [tenantId, buyers, FUNDING],
    )
  ).rows as { wrong: number; spent: string }[];
  // Units promised beyond those received: by the counters (the table's CHECK forbids it), by the
  // orders in the database, and by the 201s the buyers were given.
  const oversold = Math.max(
    0,
    p.reserved + p.sold - p.received,
    o.reserved_units + o.completed_units - p.received,
    created - p.received,
  );
  if (p.reserved !== o.reserved_units)
    problems.push(`${p.reserved} units reserved, live orders hold ${o.reserved_units}`);
  if (p.sold !== o.completed_units)
    problems.push(`${p.sold} units sold, completed orders hold ${o.completed_units}`);
  if (o.orders !== created) problems.push(`${created} answered 201, ${o.orders} orders in the database`);
  if (o.not_live !== 0) problems.push(`${o.not_live} orders failed or cancelled`);
  if (money.wrong !== 0) problems.push(`${money.wrong} buyers' balances differ from what their orders cost`);
  if (BigInt(money.spent) !== BigInt(p.sold * PRICE))
    problems.push(`buyers spent ${money.spent}, the units sold cost ${p.sold * PRICE}`);
  return { sold: p.sold, oversold, fence: p.fence, problems };
}

/** `npm run tally -- ledger:verify` over the bench's database. */
function verifyLedger(databaseUrl: string): { ok: boolean; report: string } {
  try {
    const report = execFileSync(
      process.execPath,
      [path.join(repoRoot, 'dist/apps/admin/src/cli/main.js'), 'ledger:verify'],
      { env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' }, encoding: 'utf8' },
    );
    return { ok: true, report };
  } catch (error) {
    return { ok: false, report: String((error as { stdout?: string }).stdout ?? error) };
  }
}
