/**
 * `npm run bench:events`: the plans and timings of the event list and stats queries at 5 million
 * events. Fills a scratch database (`tally_events_bench`, dropped and migrated afresh) with
 * synthetic events by generate_series — 4.5 million for the measured tenant over 30 days, 0.5
 * million for another tenant; 20 types, 1000 accounts (a fifth of the events without one), 97 %
 * processed, 2 % failed (four codes), 1 % pending, drawn at random — then runs the queries UsageRepository builds
 * (captured from it, so these are the statements the gateway sends) with EXPLAIN (ANALYZE, BUFFERS)
 * and times each over warm runs. `EVENTS_BENCH_TOTAL` changes the size; `EVENTS_BENCH_KEEP=1`
 * keeps the database.
 */
import pg from 'pg';
import type { EntityManager } from 'typeorm';
import { dropDatabase, UsageRepository } from '#persistence';
import { freshDatabase } from './bench-stack.js';

const DB = 'tally_events_bench';
const TOTAL = Number(process.env.EVENTS_BENCH_TOTAL ?? 5_000_000);
const MAIN = Math.round(TOTAL * 0.9);
const OTHER = TOTAL - MAIN;
const CHUNK = 500_000;
const RUNS = 7;
const T = 'ten_events_bench_main';

interface Captured {
  sql: string;
  params: unknown[];
}

/** The statements a repository method sends, captured instead of run. */
async function capture(call: (manager: EntityManager) => Promise<unknown>): Promise<Captured[]> {
  const seen: Captured[] = [];
  const manager = {
    query: async (sql: string, params: unknown[] = []) => {
      seen.push({ sql, params });
      return [];
    },
  } as unknown as EntityManager;
  await call(manager);
  return seen;
}

const ms = (n: number) => n.toFixed(2);

async function fill(db: pg.Pool): Promise<void> {
  await db.query(
    `INSERT INTO tenants (id, name) VALUES ($1, 'events bench'), ('ten_events_bench_other', 'other')`,
    [T],
  );
  await db.query(
    `INSERT INTO accounts (id, tenant_id, kind, currency)
     SELECT 'acc_bench_' || lpad(g::text, 4, '0'), $1, 'customer', 'USD' FROM generate_series(1, 1000) g`,
    [T],
  );
  // The newest event is "now"; they go back 30 days, evenly (received_at), occurring a little before.
  const span = 30 * 86_400;
  for (const [tenant, count, tag] of [
    [T, MAIN, 'm'],
    ['ten_events_bench_other', OTHER, 'o'],
  ] as const) {
    for (let start = 1; start <= count; start += CHUNK) {
      const end = Math.min(count, start + CHUNK - 1);
      const began = Date.now();
      await db.query(
        `INSERT INTO usage_events (tenant_id, id, type, account_id, occurred_at, properties, received_at, status)
         SELECT $1, $2 || '-' || g, 'type_' || (g * 7919 % 20),
                CASE WHEN $1 = '${T}' AND g % 5 <> 0 THEN 'acc_bench_' || lpad((1 + g * 31 % 1000)::text, 4, '0') END,
                r - interval '2 seconds', jsonb_build_object('tokens', g % 1000), r,
                CASE WHEN x < 0.97 THEN 'processed' WHEN x < 0.99 THEN 'failed' ELSE 'received' END
           FROM generate_series($3::bigint, $4::bigint) g,
                LATERAL (SELECT now() - make_interval(secs => (g::float8 / $5) * $6), random()) AS t(r, x)`,
        [tenant, tag, start, end, count, span],
      );
      console.error(`[fill] ${tenant} ${end}/${count} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
    }
  }
  const began = Date.now();
  await db.query(
    `INSERT INTO usage_failed (tenant_id, event_id, code, reason, worker_id)
     SELECT tenant_id, id, code, code || ': synthetic', 'bench'
       FROM (SELECT tenant_id, id,
                    (ARRAY['schema_violation', 'invalid_quantity', 'account_required', 'invalid_purchase'])
                      [1 + floor(random() * 4)::int] AS code
               FROM usage_events WHERE status = 'failed') f`,
  );
  await db.query(`VACUUM (ANALYZE) usage_events`);
  await db.query(`VACUUM (ANALYZE) usage_failed`);
  console.error(`[fill] failed store, vacuum analyze (${((Date.now() - began) / 1000).toFixed(1)} s)`);
}

async function main(): Promise<void> {
  const { ownerUrl } = await freshDatabase(DB);
  const db = new pg.Pool({ connectionString: ownerUrl, max: 1 });
  try {
    const filled = Date.now();
    await fill(db);
    const fillSeconds = (Date.now() - filled) / 1000;
    const usage = new UsageRepository();
    const [{ newest }] = (await db.query(`SELECT max(received_at) AS newest FROM usage_events`)).rows;
    const now = new Date(newest.getTime() + 1);
    const dayAgo = new Date(now.getTime() - 86_400_000);
    const monthAgo = new Date(now.getTime() - 31 * 86_400_000);
    // A cursor deep in the table: the position of the 1,000,000th newest event (or the middle one).
    const [deep] = (
      await db.query(
        `SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, id
           FROM usage_events WHERE tenant_id = $1 ORDER BY received_at DESC, id DESC OFFSET $2 LIMIT 1`,
        [T, Math.min(1_000_000, Math.floor(MAIN / 2))],
      )
    ).rows;
    const list = (q: Partial<Parameters<UsageRepository['list']>[2]>) => (m: EntityManager) =>
      usage.list(m, T, { limit: 21, ...q });
    const cases: [string, (m: EntityManager) => Promise<unknown>][] = [
      ['list: first page (limit 20)', list({})],
      ['list: ?type=type_7', list({ type: 'type_7' })],
      ['list: ?accountId=acc_bench_0042', list({ accountId: 'acc_bench_0042' })],
      ['list: ?status=failed', list({ status: 'failed' })],
      ['list: ?status=pending&type=type_3', list({ status: 'received', type: 'type_3' })],
      ['list: ?status=processed', list({ status: 'processed' })],
      [
        'list: ?from=&to= (one day, a week ago)',
        list({
          from: new Date(now.getTime() - 8 * 86_400_000),
          to: new Date(now.getTime() - 7 * 86_400_000),
        }),
      ],
      [
        'list: page after the 1,000,000th event (cursor)',
        list({ after: { receivedAt: deep.at, id: deep.id } }),
      ],
      [
        'stats: groupBy=type, last 24 h',
        (m) => usage.stats(m, T, { from: dayAgo, to: now, groupBy: 'type' }),
      ],
      [
        'stats: groupBy=hour, last 24 h',
        (m) => usage.stats(m, T, { from: dayAgo, to: now, groupBy: 'hour' }),
      ],
      [
        'stats: groupBy=day, 31 days (every event)',
        (m) => usage.stats(m, T, { from: monthAgo, to: now, groupBy: 'day' }),
      ],
    ];
    const table: string[] = [];
    for (const [name, call] of cases) {
      const statements = await capture(call);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const began = process.hrtime.bigint();
        for (const s of statements) await db.query(s.sql, s.params);
        times.push(Number(process.hrtime.bigint() - began) / 1e6);
      }
      times.sort((a, b) => a - b);
      console.log(`\n### ${name}\n`);
      for (const s of statements) {
        const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`, s.params);
        console.log(plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
        console.log();
      }
      table.push(`| ${name} | ${ms(times[Math.floor(RUNS / 2)])} | ${ms(times[RUNS - 1])} |`);
    }
    const [{ size }] = (
      await db.query(`SELECT pg_size_pretty(pg_total_relation_size('usage_events')) AS size`)
    ).rows;
    console.log(
      `\nTally events bench — ${TOTAL.toLocaleString('en')} events (${MAIN.toLocaleString('en')} in the measured tenant), ` +
        `usage_events ${size} with indexes, filled in ${fillSeconds.toFixed(0)} s; ${RUNS} warm runs each (client-side, all statements of the call)\n`,
    );
    console.log('| query | median (ms) | max (ms) |\n| --- | --- | --- |');
    console.log(table.join('\n'));
  } finally {
    await db.end();
    if (process.env.EVENTS_BENCH_KEEP !== '1') await dropDatabase(ownerUrl);
  }
}

await main();
