/**
 * `npm run bench:claim`: what the worker's claim of a usage batch costs as events pile up between
 * vacuums. In a scratch database (`tally_claim_bench`, dropped and migrated afresh, dropped
 * afterwards), one client inserts batches of 500 events with the gateway's statement
 * (`UsageRepository.insertNew`) and claims each with the worker's (`claimReceived`), timing both,
 * with no VACUUM in between (as between two autovacuum passes). It prints the mean per batch for each
 * quarter of the run, then the claim's plan (EXPLAIN (ANALYZE, BUFFERS), rolled back) for a fresh
 * batch, first with the table's statistics as they were during the run, then after an ANALYZE.
 *
 * `CLAIM_BENCH_BATCHES` (default 800, 400,000 events) changes the size. `CLAIM_BENCH_STATS=empty`
 * analyzes the empty table first (stale statistics during the run); by default it is never
 * analyzed (no statistics, as on a server with autovacuum off). `CLAIM_BENCH_STATEMENT=old` claims
 * with the statement used before (`… AND id = ANY($2) AND status = 'received'`).
 */
import pg from 'pg';
import type { EntityManager } from 'typeorm';
import { dropDatabase, UsageRepository } from '#persistence';
import { freshDatabase } from './bench-stack.js';

const DB = 'tally_claim_bench';
const BATCHES = Number(process.env.CLAIM_BENCH_BATCHES ?? 800);
const SIZE = 500;
const T = 'ten_claim_bench';
const OLD = process.env.CLAIM_BENCH_STATEMENT === 'old';

/** A TypeORM-like manager on one pg client: an UPDATE answers [rows, affected], as TypeORM's does. */
function managerOf(db: pg.ClientBase): EntityManager {
  return {
    query: async (sql: string, params: unknown[] = []) => {
      const r = await db.query(sql, params);
      return r.command === 'UPDATE' ? [r.rows, r.rowCount] : r.rows;
    },
  } as unknown as EntityManager;
}

async function claim(usage: UsageRepository, manager: EntityManager, ids: string[]): Promise<number> {
  if (!OLD) return (await usage.claimReceived(manager, T, ids)).length;
  const [rows] = (await manager.query(
    `UPDATE usage_events SET status = 'processed'
      WHERE tenant_id = $1 AND id = ANY($2::text[]) AND status = 'received' RETURNING id`,
    [T, ids],
  )) as [unknown[], number];
  return rows.length;
}

const events = (batch: string) =>
  Array.from({ length: SIZE }, (_, i) => ({
    id: `evt_${batch}_${i}`,
    type: 'api_call',
    accountId: `acc_claim_${(i % 100) + 1}`,
    occurredAt: new Date(),
    propertiesJson: '{"tokens": 12}',
  }));

async function main(): Promise<void> {
  const { ownerUrl } = await freshDatabase(DB);
  const db = new pg.Client({ connectionString: ownerUrl });
  await db.connect();
  const manager = managerOf(db);
  const usage = new UsageRepository();
  const meta = { apiKeyId: null, correlationId: null };
  try {
    await db.query(`INSERT INTO tenants (id, name) VALUES ($1, 'claim bench')`, [T]);
    await db.query(
      `INSERT INTO accounts (id, tenant_id, kind, currency)
       SELECT 'acc_claim_' || g, $1, 'customer', 'USD' FROM generate_series(1, 100) g`,
      [T],
    );
    const stats =
      process.env.CLAIM_BENCH_STATS === 'empty' ? 'stale (taken while the table was empty)' : 'none';
    if (stats !== 'none') await db.query(`ANALYZE usage_events`);
    const quarter = Math.ceil(BATCHES / 4);
    const rows: string[] = [];
    let insertMs = 0;
    let claimMs = 0;
    for (let b = 0; b < BATCHES; b++) {
      const batch = events(String(b));
      const t0 = performance.now();
      await usage.insertNew(manager, T, batch, meta);
      const t1 = performance.now();
      const claimed = await claim(
        usage,
        manager,
        batch.map((e) => e.id),
      );
      claimMs += performance.now() - t1;
      insertMs += t1 - t0;
      if (claimed !== SIZE) throw new Error(`batch ${b}: claimed ${claimed} of ${SIZE}`);
      if ((b + 1) % quarter === 0 || b === BATCHES - 1) {
        const n = (b % quarter) + 1;
        rows.push(
          `| ${((b + 1 - n) * SIZE).toLocaleString('en')}–${((b + 1) * SIZE).toLocaleString('en')} | ${(insertMs / n).toFixed(1)} | ${(claimMs / n).toFixed(1)} |`,
        );
        insertMs = 0;
        claimMs = 0;
      }
    }
    console.log(
      `\nTally claim bench — ${(BATCHES * SIZE).toLocaleString('en')} events in batches of ${SIZE}, one client, no VACUUM; ` +
        `statistics during the run: ${stats}; claim: ${OLD ? 'the statement used before (by id and status)' : 'claimReceived'}\n`,
    );
    console.log('| events already claimed | insert, mean per batch (ms) | claim, mean per batch (ms) |');
    console.log('| --- | ---: | ---: |');
    console.log(rows.join('\n'));

    const explain = async (state: string) => {
      const batch = events(`explain_${state}`);
      const sent: { sql: string; params: unknown[] }[] = [];
      const capturing = {
        query: async (sql: string, params: unknown[] = []) => {
          sent.push({ sql, params });
          return [[], 0];
        },
      } as unknown as EntityManager;
      await claim(
        usage,
        capturing,
        batch.map((e) => e.id),
      );
      await db.query('BEGIN');
      try {
        await usage.insertNew(manager, T, batch, meta);
        const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${sent[0].sql}`, sent[0].params);
        console.log(`\n### statistics: ${state}\n`);
        console.log(
          plan.rows
            .map((r: Record<string, string>) => r['QUERY PLAN'])
            .map((line) => (line.length > 160 ? `${line.slice(0, 160)}…` : line))
            .join('\n'),
        );
      } finally {
        await db.query('ROLLBACK');
      }
    };
    await explain(stats);
    await db.query(`ANALYZE usage_events`);
    await explain('current');
  } finally {
    await db.end();
    if (process.env.CLAIM_BENCH_KEEP !== '1') await dropDatabase(ownerUrl);
  }
}

await main();
