/**
 * npm run loadtest -- --rate 1500 --duration 60 --mix transfers=70,events=20,orders=10
 *
 * An open-loop load test: requests leave on a fixed schedule whatever the answers (no coordinated
 * omission), and each latency is measured from the request's scheduled send time. It starts its own
 * gateway and transaction-worker from dist/ on a database of its own (tally_loadtest), funds the
 * accounts through the API, warms up at the same rate (not counted), runs, waits until the
 * accepted work is done, checks the ledger, then prints a per-second table and a summary and
 * writes an HTML report with the throughput and latency plots.
 *
 *   --rate N               requests per second (1500)
 *   --duration S           seconds measured (60)
 *   --warmup S             seconds of the same load first, not counted (5)
 *   --mix k=w,…            kinds of request and their weights: transfers, events, orders
 *                          (transfers=70,events=20,orders=10)
 *   --accounts N           funded accounts the load spreads over (200)
 *   --max-connections N    connections opened at most; past it requests queue, and wait (1000)
 *   --report FILE          where the HTML report goes (dist/loadtest/report-<time>.html)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { BenchApps, benchTenant, cpuSeconds, fmt, freshDatabase, repoRoot } from './bench-stack.js';
import {
  bySecond,
  mixSequence,
  parseMix,
  percentiles,
  runOpenLoop,
  type Outcome,
  type PlannedRequest,
} from './open-loop.js';
import { htmlReport } from './report.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '1500' },
    duration: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '5' },
    mix: { type: 'string', default: 'transfers=70,events=20,orders=10' },
    accounts: { type: 'string', default: '200' },
    'max-connections': { type: 'string', default: '1000' },
    report: { type: 'string' },
  },
});
const positive = (name: string, value: string) => {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--${name} must be a positive number, not "${value}"`);
  return n;
};
const RATE = positive('rate', args.rate!);
const SECONDS = positive('duration', args.duration!);
const WARMUP = Number(args.warmup);
const ACCOUNTS = Math.floor(positive('accounts', args.accounts!));
const MAX_CONNECTIONS = Math.floor(positive('max-connections', args['max-connections']!));
const MIX = parseMix(args.mix!);
const KINDS = ['transfers', 'events', 'orders'];
for (const { kind } of MIX) {
  if (!KINDS.includes(kind)) throw new Error(`unknown kind "${kind}" in --mix; use ${KINDS.join(', ')}`);
}
const wants = (kind: string) => MIX.some((m) => m.kind === kind && m.weight > 0);
const PRODUCTS = 50;

async function main() {
  const { ownerUrl, appUrl } = await freshDatabase('tally_loadtest');
  const db = new pg.Pool({ connectionString: ownerUrl, max: 4 });
  const { apiKey } = await benchTenant(db, 'loadtest');
  const apps = new BenchApps(appUrl);
  try {
    const gateway = await apps.start('gateway', 'GATEWAY_PORT');
    const worker = await apps.start('transaction-worker', 'WORKER_PORT');
    const gatewayUrl = new URL(gateway.url);
    const api = async (method: string, route: string, body?: unknown, key?: string) => {
      const res = await fetch(`${gateway.url}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          ...(key ? { 'idempotency-key': key } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${text}`);
      return JSON.parse(text);
    };

    // Accounts funded through the API, so the ledger adds up and can be verified after the run.
    const accounts: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++)
      accounts.push((await api('POST', '/v1/accounts', { currency: 'USD' })).id);
    await Promise.all(
      accounts.map((id) =>
        api(
          'POST',
          '/v1/transactions',
          { type: 'deposit', destinationAccountId: id, amount: 1_000_000_000, currency: 'USD' },
          `fund-${id}`,
        ),
      ),
    );
    if (wants('events')) {
      await api('POST', '/v1/meters', {
        eventType: 'tokens',
        aggregation: 'sum',
        property: 'count',
        unitPrice: 2,
        currency: 'USD',
      });
    }
    const products: string[] = [];
    if (wants('orders')) {
      for (let i = 0; i < PRODUCTS; i++) {
        const product = await api('POST', '/v1/products', {
          sku: `lt-${i}`,
          name: `Load-test product ${i}`,
          price: 100 + i,
          currency: 'USD',
          stock: 1_000_000,
        }).catch((error: Error) => {
          throw new Error(`the mix asks for orders, but the gateway refused a product: ${error.message}`);
        });
        products.push(product.id);
      }
    }
    await drained(db);

    const head = (route: string) =>
      `POST ${route} HTTP/1.1\r\nhost: ${gatewayUrl.host}\r\n` +
      `authorization: Bearer ${apiKey}\r\ncontent-type: application/json\r\n`;
    const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)];
    let n = 0;
    const builders: Record<string, () => PlannedRequest> = {
      transfers: () => {
        const a = pick(accounts);
        let b = pick(accounts);
        if (a === b) b = accounts[(accounts.indexOf(a) + 1) % accounts.length];
        return {
          kind: 'transfers',
          head: `${head('/v1/transactions')}idempotency-key: lt-${n++}\r\n`,
          body: JSON.stringify({
            type: 'transfer',
            sourceAccountId: a,
            destinationAccountId: b,
            amount: 1 + (n % 100),
            currency: 'USD',
          }),
        };
      },
      events: () => ({
        kind: 'events',
        head: head('/v1/events'),
        body: JSON.stringify({
          id: `ev-${n++}`,
          type: 'tokens',
          accountId: pick(accounts),
          properties: { count: 1 + (n % 50) },
        }),
      }),
      orders: () => ({
        kind: 'orders',
        head: `${head('/v1/orders')}idempotency-key: lt-${n++}\r\n`,
        body: JSON.stringify({
          accountId: pick(accounts),
          items: [{ productId: pick(products), quantity: 1 + (n % 3) }],
        }),
      }),
    };
    const load = (seconds: number) => {
      const nextKind = mixSequence(MIX);
      return runOpenLoop({
        host: gatewayUrl.hostname,
        port: Number(gatewayUrl.port),
        rate: RATE,
        seconds,
        maxConnections: MAX_CONNECTIONS,
        next: () => builders[nextKind()](),
      });
    };

    if (WARMUP > 0) {
      const warm = await load(WARMUP);
      console.error(`[loadtest] warm-up: ${warm.outcomes.length} requests in ${WARMUP} s, not counted`);
      await drained(db);
    }
    const cpuBefore = { gateway: cpuSeconds(gateway.child.pid!), worker: cpuSeconds(worker.child.pid!) };
    const started = Date.now();
    const run = await load(SECONDS);
    const sentSeconds = (Date.now() - started) / 1000;
    const cpu = {
      gateway: cpuSeconds(gateway.child.pid!) - cpuBefore.gateway,
      worker: cpuSeconds(worker.child.pid!) - cpuBefore.worker,
    };
    const drainSeconds = await drained(db);
    const verify = verifyLedger(appUrl);
    const outcome = summarize(run.outcomes);

    const seconds = bySecond(run.outcomes);
    console.log('');
    console.log(
      `Tally open-loop load test — ${RATE}/s for ${SECONDS} s (after ${WARMUP} s of warm-up), mix ${args.mix}, ${ACCOUNTS} accounts (node ${process.version}, ${cpus().length} cores)`,
    );
    console.log('');
    // due / 2xx / failed: the requests scheduled in that second; arrived: 2xx answers received in it.
    console.log('| second | due | 2xx | failed | 2xx arrived | p50 ms | p90 ms | p99 ms | max ms |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of seconds) {
      console.log(
        `| ${r.second} | ${r.due} | ${r.ok} | ${r.failed} | ${r.answered} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${fmt(r.max)} |`,
      );
    }
    console.log('');
    console.log('| kind | requests | 2xx | other answers | p50 / p90 / p99 / p99.9 / max (ms) |');
    console.log('| --- | ---: | ---: | --- | --- |');
    for (const row of outcome) console.log(`| ${row.join(' | ')} |`);
    const summary: (string | number)[][] = [
      ['requests scheduled / answered 2xx', `${run.outcomes.length} / ${run.outcomes.filter(ok).length}`],
      ['rate asked / achieved sending (req/s)', `${RATE} / ${fmt(run.outcomes.length / sentSeconds)}`],
      ['connections opened', run.connections],
      ['work drained after the run (s)', fmt(drainSeconds)],
      [
        'gateway / worker CPU (% of one core)',
        `${fmt((100 * cpu.gateway) / sentSeconds, 0)} / ${fmt((100 * cpu.worker) / sentSeconds, 0)}`,
      ],
      ['ledger:verify after the run', verify.ok ? 'ok' : 'FAILED'],
      ...outcome.map((r) => [
        `${r[0]}: 2xx of requests; p50/p90/p99/p99.9/max ms`,
        `${r[2]} of ${r[1]}; ${r[4]}`,
      ]),
    ];
    console.log('');
    console.log('| measure | value |');
    console.log('| --- | --- |');
    for (const [k, v] of summary) console.log(`| ${k} | ${v} |`);

    const all = run.outcomes.map((o) => o.latencyMs).sort((a, b) => a - b);
    const distribution: [number, number][] = [];
    for (let p = 0; p <= 99.999; p = p < 90 ? p + 1 : p < 99 ? p + 0.1 : p + 0.01) {
      distribution.push([p, all[Math.min(all.length - 1, Math.floor((p / 100) * all.length))]]);
    }
    distribution.push([99.999, all[all.length - 1]]);
    const file =
      args.report ??
      path.join(
        repoRoot,
        'dist',
        'loadtest',
        `report-${new Date().toISOString().replace(/[:.]/g, '-')}.html`,
      );
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(
      file,
      htmlReport({
        title: `Tally open-loop load test — ${RATE}/s for ${SECONDS} s, ${args.mix}`,
        settings: [
          ['rate (requests/s)', String(RATE)],
          ['duration (s) / warm-up (s)', `${SECONDS} / ${WARMUP}`],
          ['mix', args.mix!],
          ['accounts', String(ACCOUNTS)],
          ['machine', `${cpus().length} cores, node ${process.version}; load generator on the same machine`],
        ],
        summary,
        seconds,
        distribution,
      }),
    );
    console.log('');
    console.log(`HTML report: ${file}`);
    if (!verify.ok) {
      console.error(verify.report);
      process.exitCode = 1;
    }
  } finally {
    await apps.stop();
    await db.end();
  }
}

const ok = (o: Outcome) => o.status >= 200 && o.status < 300;

function summarize(outcomes: Outcome[]): string[][] {
  const kinds = [...new Set(outcomes.map((o) => o.kind))];
  return [...kinds, 'all'].map((kind) => {
    const list = kind === 'all' ? outcomes : outcomes.filter((o) => o.kind === kind);
    const statuses = new Map<number, number>();
    for (const o of list) if (!ok(o)) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
    const other =
      [...statuses.entries()].map(([s, c]) => `${s === 0 ? 'no answer' : s}: ${c}`).join(', ') || '-';
    const p = percentiles(list.map((o) => o.latencyMs));
    return [
      kind,
      String(list.length),
      String(list.filter(ok).length),
      other,
      `${fmt(p.p50)} / ${fmt(p.p90)} / ${fmt(p.p99)} / ${fmt(p.p999)} / ${fmt(p.max)}`,
    ];
  });
}

/** Waits until every accepted transaction, event and order is done; answers how long it took (s). */
async function drained(db: pg.Pool): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { rows } = await db.query(
      `SELECT (SELECT count(*) FROM transactions WHERE status NOT IN ('succeeded', 'failed'))
            + (SELECT count(*) FROM usage_events WHERE status = 'received') AS open`,
    );
    if (Number(rows[0].open) === 0) return (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function verifyLedger(databaseUrl: string): { ok: boolean; report: string } {
  try {
    const report = execFileSync(
      process.execPath,
      [path.join(repoRoot, 'dist/apps/admin/src/cli/main.js'), 'ledger:verify'],
      {
        env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
        encoding: 'utf8',
      },
    );
    return { ok: true, report };
  } catch (error) {
    return { ok: false, report: String((error as { stdout?: string }).stdout ?? error) };
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
