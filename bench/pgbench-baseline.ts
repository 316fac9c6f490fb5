/**
 * The strongest baseline this machine offers for a ledger transfer: pgbench (C, libpq, prepared
 * statements, no application in between) running the same transfer as Tally's worker writes — the
 * two accounts locked in id order, the transaction row, both balances, two entries with their
 * balance after, and the outcome event's outbox row — one transfer per commit and fifty per commit,
 * at the client count that commits most. Run on the bench's own database after the apps stopped.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';

const run = promisify(execFile);

export interface PgbenchResult {
  perCommit: number;
  clients: number;
  transfersPerSecond: number;
  /** Every client count tried, with its transfers per second. */
  tried: { clients: number; transfersPerSecond: number }[];
  /** Statements each transfer sends (one round trip each, prepared). */
  roundTripsPerTransfer: number;
}

/** One transfer's statements; `k` names its variables apart from the others' in the same commit. */
function transfer(k: number): string[] {
  const amount = `(:amt${k})::bigint`;
  return [
    `INSERT INTO transactions (id, tenant_id, type, status, amount, currency, source_account_id, destination_account_id, completed_at)
 SELECT 'txn_pgb' || gen_random_uuid(), :tenant, 'transfer', 'succeeded', ${amount}, 'USD', s.id, d.id, now()
 FROM bench_accounts s, bench_accounts d WHERE s.n = :a${k} AND d.n = :b${k}
 RETURNING id AS tid, source_account_id AS src, destination_account_id AS dst`.replace(/\n/g, ' '),
    `\\gset t${k}_`,
    `UPDATE accounts SET posted = posted + CASE WHEN id = :t${k}_src THEN -${amount} ELSE ${amount} END, updated_at = now() WHERE id IN (:t${k}_src, :t${k}_dst);`,
    `INSERT INTO ledger_entries (id, tenant_id, transaction_id, account_id, amount, balance_after, currency)
 SELECT 'ent_pgb' || gen_random_uuid(), :tenant, :t${k}_tid, id, CASE WHEN id = :t${k}_src THEN -${amount} ELSE ${amount} END, posted, 'USD'
 FROM accounts WHERE id IN (:t${k}_src, :t${k}_dst);`.replace(/\n/g, ' '),
    `INSERT INTO outbox (message_id, exchange, routing_key, message_type, payload, correlation_id)
 VALUES ('evt_pgb' || gen_random_uuid(), 'tally.events', 'transaction.succeeded', 'transaction.succeeded',
 jsonb_build_object('id', 'evt_pgb', 'type', 'transaction.succeeded', 'tenantId', (:tenant)::text, 'createdAt', now(),
 'data', jsonb_build_object('id', (:t${k}_tid)::text, 'type', 'transfer', 'status', 'succeeded', 'amount', ${amount}, 'currency', 'USD',
 'sourceAccountId', (:t${k}_src)::text, 'destinationAccountId', (:t${k}_dst)::text, 'completedAt', now())), :t${k}_tid);`.replace(
      /\n/g,
      ' ',
    ),
  ];
}

/** The pgbench script for `perCommit` transfers per database transaction. */
export function pgbenchScript(accounts: number, perCommit: number): { script: string; roundTrips: number } {
  const lines: string[] = [];
  const ks = Array.from({ length: perCommit }, (_, i) => i + 1);
  for (const k of ks) {
    lines.push(`\\set a${k} random(1, ${accounts})`);
    // Never the same account twice in one transfer: b is a shifted by 1..accounts-1.
    lines.push(`\\set b${k} 1 + (:a${k} - 1 + random(1, ${accounts - 1})) % ${accounts}`);
    lines.push(`\\set amt${k} random(1, 100)`);
  }
  lines.push('BEGIN;');
  // Every account of the commit locked at once, in id order: the order every writer takes them in.
  const ns = ks.flatMap((k) => [`:a${k}`, `:b${k}`]).join(', ');
  lines.push(
    `SELECT a.id, a.posted FROM accounts a JOIN bench_accounts m ON m.id = a.id WHERE m.n IN (${ns}) ORDER BY a.id FOR NO KEY UPDATE OF a;`,
  );
  for (const k of ks) lines.push(...transfer(k));
  lines.push('COMMIT;');
  // BEGIN, the lock, four statements per transfer, COMMIT.
  return { script: `${lines.join('\n')}\n`, roundTrips: (3 + 4 * perCommit) / perCommit };
}

/**
 * Runs pgbench for `seconds` at each client count in `clientCounts`, `perCommit` transfers per
 * commit, and answers the best. `ids` are the bench's funded accounts (numbered for pgbench).
 */
export async function pgbenchBaseline(
  db: pg.Pool,
  ownerUrl: string,
  tenantId: string,
  ids: string[],
  perCommit: number,
  clientCounts: number[],
  seconds: number,
): Promise<PgbenchResult> {
  await db.query(`CREATE TABLE IF NOT EXISTS bench_accounts (n int PRIMARY KEY, id text NOT NULL)`);
  await db.query(`TRUNCATE bench_accounts`);
  await db.query(
    `INSERT INTO bench_accounts (n, id) SELECT ordinality::int, id FROM unnest($1::text[]) WITH ORDINALITY id`,
    [ids],
  );
  await db.query(`ANALYZE bench_accounts`);
  const { script, roundTrips } = pgbenchScript(ids.length, perCommit);
  const dir = mkdtempSync(path.join(tmpdir(), 'tally-pgbench-'));
  const file = path.join(dir, `transfer-${perCommit}.sql`);
  writeFileSync(file, script);
  const tried: PgbenchResult['tried'] = [];
  try {
    for (const clients of clientCounts) {
      const { stdout } = await run(
        'pgbench',
        [
          '--no-vacuum',
          '--protocol=prepared',
          `--client=${clients}`,
          `--jobs=${Math.min(clients, 2)}`,
          `--time=${seconds}`,
          '--max-tries=20', // a deadlock or serialization failure is retried, as Tally's worker does
          `--define=tenant=${tenantId}`,
          `--file=${file}`,
          ownerUrl,
        ],
        { timeout: (seconds + 60) * 1000, maxBuffer: 16 * 1024 * 1024 },
      );
      const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
      if (!tps) throw new Error(`pgbench printed no tps:\n${stdout}`);
      tried.push({ clients, transfersPerSecond: Number(tps[1]) * perCommit });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const best = tried.reduce((a, b) => (b.transfersPerSecond > a.transfersPerSecond ? b : a));
  return {
    perCommit,
    clients: best.clients,
    transfersPerSecond: best.transfersPerSecond,
    tried,
    roundTripsPerTransfer: roundTrips,
  };
}
