/**
 * What the bench and the load test share: a throwaway database, the apps started from dist/ in
 * production mode against it, a tenant with an API key, and the machine's CPU counters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateApiKey, newId } from '#domain';
import { dropDatabase, migrateDatabase } from '#persistence';
import { freePort } from '#test-support';
import { deletePrefixedBrokerObjects } from '../test/support/broker-cleanup.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
export const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

/** CPU seconds used so far by every live process with this command name (all of Postgres's, say). */
export function cpuSecondsOfCommand(command: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === command)
        total += cpuSeconds(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return total;
}

/** CPU seconds the whole machine has been busy (every core, anything not idle or waiting on I/O). */
export function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

export function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** A database of the bench's own (`name`), dropped and migrated afresh, as owner and as the apps' role. */
export async function freshDatabase(name: string): Promise<{ ownerUrl: string; appUrl: string }> {
  const server = new URL(
    process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  );
  server.pathname = `/${name}`;
  const ownerUrl = server.toString();
  const appUrl = new URL(ownerUrl);
  appUrl.username = 'tally_app';
  await dropDatabase(ownerUrl);
  await migrateDatabase({ DATABASE_MIGRATION_URL: ownerUrl, DATABASE_STATEMENT_TIMEOUT_MS: 60_000 });
  return { ownerUrl, appUrl: appUrl.toString() };
}

/** A tenant and an API key for it, written directly (the key's plaintext is returned). */
export async function benchTenant(db: pg.Pool, name: string): Promise<{ tenantId: string; apiKey: string }> {
  const tenantId = newId('ten');
  const key = generateApiKey();
  await db.query(`INSERT INTO tenants (id, name) VALUES ($1, $2)`, [tenantId, name]);
  await db.query(`INSERT INTO api_keys (id, tenant_id, prefix, key_hash) VALUES ($1, $2, $3, $4)`, [
    newId('key'),
    tenantId,
    key.displayPrefix,
    key.hash,
  ]);
  return { tenantId, apiKey: key.plaintext };
}

/**
 * `count` customer accounts of the tenant, each holding `fund` (USD minor units), balanced against
 * one external account, written by direct SQL. Without entries: ledger:verify would fail on them,
 * and the bench database is throwaway.
 */
export async function fundedAccounts(
  db: pg.Pool,
  tenantId: string,
  count: number,
  fund = 1_000_000_000,
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newId('acc'));
  await db.query(
    `INSERT INTO accounts (id, tenant_id, kind, currency, posted) VALUES ($1, $2, 'external', 'USD', $3)`,
    [newId('acc'), tenantId, -fund * count],
  );
  await db.query(
    `INSERT INTO accounts (id, tenant_id, kind, currency, posted) SELECT unnest($1::text[]), $2, 'customer', 'USD', $3`,
    [ids, tenantId, fund],
  );
  return ids;
}

/**
 * Waits until no transfer of the database is open (succeeded or failed, every one), polling every
 * `pollMs` with an index probe; answers when (ms since the epoch).
 */
export async function transfersDrained(db: pg.Pool, pollMs = 200): Promise<number> {
  for (;;) {
    const { rows } = await db.query(
      `SELECT EXISTS (SELECT 1 FROM transactions WHERE status NOT IN ('succeeded', 'failed')) AS open`,
    );
    if (!rows[0].open) return Date.now();
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Production mode wants a key for webhook secrets at rest; the bench registers no webhooks. */
const BENCH_WEBHOOK_KEY = randomBytes(32).toString('base64');
/** The gateways of one bench run share it, as replicas must. */
const BENCH_CUSTOMER_TOKEN_SECRET = randomBytes(32).toString('hex');

export interface BenchApp {
  child: ChildProcess;
  url: string;
}

/**
 * The apps of one bench run: each started from dist/ in production mode on a free port, sharing
 * a broker prefix of their own; `stop` ends them and removes the prefix's queues.
 */
export class BenchApps {
  readonly prefix = `bench.${randomBytes(3).toString('hex')}.`;
  private readonly started: BenchApp[] = [];

  constructor(private readonly databaseUrl: string) {}

  async start(name: string, portVariable: string, env: Record<string, string> = {}): Promise<BenchApp> {
    const port = await freePort();
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(
      process.execPath,
      [...nodeArgs, path.join(repoRoot, `dist/apps/${name}/src/main.js`)],
      {
        env: {
          ...process.env,
          NODE_ENV: 'production',
          DATABASE_URL: this.databaseUrl,
          AMQP_URL: amqpUrl,
          DATABASE_MIGRATE_ON_START: 'false',
          DATABASE_POOL_MAX: process.env.BENCH_POOL ?? '20',
          AMQP_PREFIX: this.prefix,
          LOG_LEVEL: 'warn',
          WEBHOOK_ENCRYPTION_KEYS: BENCH_WEBHOOK_KEY,
          CUSTOMER_TOKEN_SECRET: BENCH_CUSTOMER_TOKEN_SECRET,
          // One API key drives the whole load: limits far above it, so the check runs but never refuses.
          RATE_LIMIT_WRITES_BURST: '1000000',
          RATE_LIMIT_WRITES_PER_SECOND: '1000000',
          RATE_LIMIT_READS_BURST: '1000000',
          RATE_LIMIT_READS_PER_SECOND: '1000000',
          RATE_LIMIT_EVENTS_BURST: '1000000',
          RATE_LIMIT_EVENTS_PER_SECOND: '1000000',
          [portVariable]: String(port),
          ...env,
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/health/ready`)).ok) break;
      } catch {
        /* not yet */
      }
      if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
      if (i > 300) throw new Error(`${name} did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const app = { child, url };
    this.started.push(app);
    return app;
  }

  /** Ends one app (SIGTERM) and waits for it to exit; the others and the broker objects stay. */
  async stopApp(app: BenchApp): Promise<void> {
    await new Promise<void>((resolve) => {
      if (app.child.exitCode !== null || app.child.signalCode !== null) return resolve();
      app.child.once('exit', () => resolve());
      app.child.kill('SIGTERM');
    });
  }

  /** Ends the apps (SIGTERM) and deletes the broker objects of this run's prefix. */
  async stop(): Promise<void> {
    await Promise.all(this.started.map((app) => this.stopApp(app)));
    // Quorum queues hold file handles on the broker: leave none behind.
    await deletePrefixedBrokerObjects(amqpUrl, this.prefix);
  }
}
