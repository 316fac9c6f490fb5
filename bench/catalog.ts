/**
 * npm run bench -- catalog [--products 2000] [--ranking-products 200] [--seconds 10] [--concurrency 32]
 * (or BENCH_SCENARIO=catalog npm run bench).
 *
 * Catalog reads through HTTP against the real gateway, with the product cache (docs/architecture.md,
 * "Product cache") on and off, in the same run, on the same database: two gateways started from
 * dist/, one with PRODUCT_CACHE=on and one with PRODUCT_CACHE=off, sharing one Redis (a
 * redis-server of the bench's own on a free port, or REDIS_URL when it is set) under different key
 * prefixes. `products` products are written to one tenant by SQL (database tally_bench_catalog,
 * dropped and migrated afresh), plus 200 more for the warm-up; `ranking-products` to a second
 * tenant, whose ranking page is read (the page's SQL scores the tenant's whole catalog, so its cost
 * grows with it).
 *
 * Each gateway first gets a warm-up (reads of the warm-up products and of the second tenant's
 * ranking page, not counted: JIT, connections, prepared statements; with the cache on, the ranking
 * page is then cached). Then, `concurrency` keep-alive connections:
 * - product, cold: each product read once, in random order, from an empty cache (every read misses,
 *   loads from PostgreSQL and fills);
 * - product, warm: random reads of the same products for `seconds` (the cache now holds them);
 * - product, off: the same random reads for `seconds` from the gateway without the cache;
 * - ranking page: `GET /v1/products` (first page of 20, sort=ranking) of the second tenant for
 *   `seconds`, cache on (warm) and off.
 * It prints reads/s, latency p50/p99, the hit ratio, the database loads and Redis errors, read
 * from the gateway's own /metrics (tally_cache_hits_total, _misses_total, _loads_total,
 * _errors_total) around each phase. Exit 1 when a read does not answer 200.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { newId } from '#domain';
import { BenchApps, benchTenant, fmt, freshDatabase, machineBusySeconds, percentile } from './bench-stack.js';
import { startRedis } from './flash-sale.js';
import { LoadConnection } from './load-connection.js';

const WARMUP_PRODUCTS = 200;
const WARMUP_SECONDS = 3;
/** The default list: first page, sort=ranking. */
const RANKING = '/v1/products';

interface Options {
  products: number;
  rankingProducts: number;
  seconds: number;
  concurrency: number;
}

interface Phase {
  name: string;
  cache: 'on' | 'off';
  reads: number;
  errors: number;
  seconds: number;
  latencies: number[];
  hits: number;
  misses: number;
  loads: number;
  redisErrors: number;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      products: { type: 'string', default: process.env.BENCH_PRODUCTS ?? '2000' },
      'ranking-products': { type: 'string', default: process.env.BENCH_RANKING_PRODUCTS ?? '200' },
      seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '10' },
      concurrency: { type: 'string', default: process.env.BENCH_CONCURRENCY ?? '32' },
    },
  });
  const opts = {
    products: Number(values.products),
    rankingProducts: Number(values['ranking-products']),
    seconds: Number(values.seconds),
    concurrency: Number(values.concurrency),
  };
  for (const [name, value] of Object.entries(opts)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
  }
  return opts;
}

/** The cache counters of a gateway's /metrics, for one cache. */
async function cacheCounters(url: string, cache: 'product' | 'list') {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (name: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) && line.includes(`cache="${cache}"`))
      .reduce((total, line) => total + Number(line.split(' ').pop()), 0);
  return {
    hits: sum('tally_cache_hits_total'),
    misses: sum('tally_cache_misses_total'),
    loads: sum('tally_cache_loads_total'),
    redisErrors: sum('tally_cache_errors_total'),
  };
}

const progress = (line: string) => console.error(`[catalog] ${line}`);

export async function catalog(argv: string[]): Promise<number> {
  const opts = options(argv);
  const ownRedis = process.env.REDIS_URL ? null : await startRedis();
  const redisUrl = process.env.REDIS_URL ?? ownRedis?.url;
  if (!redisUrl) throw new Error('no redis-server to start and no REDIS_URL: the cache needs a Redis');
  const { ownerUrl, appUrl } = await freshDatabase('tally_bench_catalog');
  const db = new pg.Pool({ connectionString: ownerUrl, max: 4 });
  const apps = new BenchApps(appUrl);
  const interrupted = async () => {
    await apps.stop().catch(() => undefined);
    ownRedis?.stop();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const phases: Phase[] = [];
  const busyAt = { at: performance.now() / 1000, machine: machineBusySeconds() };
  try {
    const { tenantId, apiKey } = await benchTenant(db, 'catalog');
    const ids = await insertProducts(db, tenantId, opts.products, 'CAT');
    const warmupIds = await insertProducts(db, tenantId, WARMUP_PRODUCTS, 'WARM');
    const shop = await benchTenant(db, 'ranking');
    await insertProducts(db, shop.tenantId, opts.rankingProducts, 'RANK');
    const run = `${randomBytes(3).toString('hex')}`;
    for (const cache of ['off', 'on'] as const) {
      const gateway = await apps.start('gateway', 'GATEWAY_PORT', {
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: `bench-catalog-${run}-${cache}:`,
        PRODUCT_CACHE: cache,
        PRODUCT_CACHE_TTL_SECONDS: '3600',
      });
      const url = new URL(gateway.url);
      const connections = await Promise.all(
        Array.from({ length: opts.concurrency }, () => LoadConnection.open(url.hostname, Number(url.port))),
      );
      const head = (path: string) =>
        `GET ${path} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${path === RANKING ? shop.apiKey : apiKey}\r\n`;
      /** Reads `next()` paths on every connection until it answers null; counters of `cache` around it. */
      const measure = async (
        name: string,
        counted: 'product' | 'list',
        next: () => string | null,
      ): Promise<Phase> => {
        const before = await cacheCounters(gateway.url, counted);
        const latencies: number[] = [];
        let errors = 0;
        const started = performance.now();
        await Promise.all(
          connections.map(async (connection) => {
            for (let path = next(); path !== null; path = next()) {
              const t0 = performance.now();
              const status = await connection.request(head(path), '');
              if (status === 200) latencies.push(performance.now() - t0);
              else errors++;
            }
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        const after = await cacheCounters(gateway.url, counted);
        const phase = {
          name,
          cache,
          reads: latencies.length,
          errors,
          seconds,
          latencies: latencies.sort((a, b) => a - b),
          hits: after.hits - before.hits,
          misses: after.misses - before.misses,
          loads: after.loads - before.loads,
          redisErrors: after.redisErrors - before.redisErrors,
        };
        progress(`${name}, cache ${cache}: ${fmt(phase.reads / seconds, 0)} reads/s`);
        return phase;
      };
      const forSeconds = (seconds: number, path: () => string) => {
        const until = performance.now() + seconds * 1000;
        return () => (performance.now() < until ? path() : null);
      };
      const randomOf = (list: string[]) => () =>
        `/v1/products/${list[Math.floor(Math.random() * list.length)]}`;
      try {
        // Warm-up, not counted: other products than the measured ones, and the ranking page.
        await measure('warm-up', 'product', forSeconds(WARMUP_SECONDS, randomOf(warmupIds)));
        await measure(
          'warm-up',
          'list',
          forSeconds(WARMUP_SECONDS, () => RANKING),
        );
        if (cache === 'on') {
          const order = [...ids].sort(() => Math.random() - 0.5);
          let i = 0;
          phases.push(
            await measure('product by id, cold (each once)', 'product', () =>
              i < order.length ? `/v1/products/${order[i++]}` : null,
            ),
          );
          phases.push(
            await measure('product by id, warm', 'product', forSeconds(opts.seconds, randomOf(ids))),
          );
        } else {
          phases.push(await measure('product by id', 'product', forSeconds(opts.seconds, randomOf(ids))));
        }
        const ranking = `ranking page (20 of ${opts.rankingProducts})${cache === 'on' ? ', warm' : ''}`;
        phases.push(
          await measure(
            ranking,
            'list',
            forSeconds(opts.seconds, () => RANKING),
          ),
        );
      } finally {
        for (const connection of connections) connection.close();
        await apps.stopApp(gateway);
      }
    }
  } finally {
    await apps.stop();
    ownRedis?.stop();
    await db.end();
  }
  const busy = (100 * (machineBusySeconds() - busyAt.machine)) / (performance.now() / 1000 - busyAt.at);

  console.log('');
  console.log(
    `Tally catalog reads — ${opts.products} products in one tenant, ${opts.concurrency} connections, ` +
      `${opts.seconds} s per timed phase (node ${process.version}, ${cpus().length} cores, ` +
      `machine ${fmt(busy / cpus().length, 0)}% busy over the run)`,
  );
  console.log(
    '| reads | cache | reads/s | p50 / p99 (ms) | hit ratio | database loads | Redis errors | non-200 |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const p of phases) {
    const lookups = p.hits + p.misses;
    console.log(
      `| ${p.name} | ${p.cache} | ${fmt(p.reads / p.seconds, 0)} | ` +
        `${fmt(percentile(p.latencies, 50), 2)} / ${fmt(percentile(p.latencies, 99), 2)} | ` +
        `${p.cache === 'on' && lookups > 0 ? `${fmt((100 * p.hits) / lookups, 1)} %` : '-'} | ` +
        `${p.cache === 'on' ? p.loads : p.reads} | ${p.cache === 'on' ? p.redisErrors : '-'} | ${p.errors} |`,
    );
  }
  const failed = phases.some((p) => p.errors > 0);
  if (failed) console.log('Some reads did not answer 200: see the non-200 column.');
  return failed ? 1 : 0;
}

/** `count` active products of the tenant, by SQL; their ids. */
async function insertProducts(db: pg.Pool, tenantId: string, count: number, sku: string): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newId('prod'));
  await db.query(
    `INSERT INTO products (id, tenant_id, sku, name, description, category, price, currency, stock_received, stock_sold)
     SELECT id, $2, $3 || '-' || n, 'Product ' || n, 'A product of the catalog bench', 'bench',
            100 + n, 'USD', 1000, n % 50
       FROM unnest($1::text[]) WITH ORDINALITY AS t(id, n)`,
    [ids, tenantId, sku],
  );
  return ids;
}
