/**
 * npm run soak [-- --minutes 10 --mix transfers=70,events=30 --rate N]
 *
 * A long run at a steady, moderate load, to find what grows: memory, event-loop lag, open file
 * descriptors, database connections. It starts the four apps from dist/ on a database of its own
 * (tally_soak), measures the capacity with a short closed-loop burst of transfers (unless --rate is
 * given), then sends an open-loop mix at half of it for the whole run, sampling each app every
 * --sample seconds. It prints each app's figures at the start and the end of the measured part (the
 * first tenth is warm-up) with their slope per minute and the noise around that slope, and fails
 * (exit 1) when anything grows beyond the noise: a leak, not a wobble.
 *
 *   --minutes M          measured time (10)
 *   --rate N             requests/s (default: half the measured capacity)
 *   --mix k=w,…          transfers, events (transfers=70,events=30)
 *   --sample S           seconds between samples (10)
 */
import { parseArgs } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';
import { BenchApps, benchTenant, fmt, freshDatabase, type BenchApp } from './bench-stack.js';
import { LoadConnection } from './load-connection.js';
import { mixSequence, parseMix, percentiles, runOpenLoop, type PlannedRequest } from './open-loop.js';
import { grows, trend } from './trend.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string' },
    mix: { type: 'string', default: 'transfers=70,events=30' },
    sample: { type: 'string', default: '10' },
  },
});
const MINUTES = Number(args.minutes);
const SAMPLE_SECONDS = Number(args.sample);
const MIX = parseMix(args.mix!);
for (const { kind } of MIX) {
  if (kind !== 'transfers' && kind !== 'events')
    throw new Error(`the soak mixes transfers and events, not ${kind}`);
}
if (!(MINUTES > 0) || !(SAMPLE_SECONDS > 0)) throw new Error('--minutes and --sample must be positive');
const ACCOUNTS = 200;

interface Sample {
  at: number;
  rssMiB: number;
  lagP99Ms: number;
  fds: number;
  dbConnections: number;
}

/** A gauge's value from a /metrics page (the apps label every series with `app`). */
const metric = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
};

async function sample(app: BenchApp, db: pg.Pool, applicationName: string, at: number): Promise<Sample> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const pid = app.child.pid!;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const { rows } = await db.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
    [applicationName],
  );
  return {
    at,
    rssMiB: rss ? Number(rss[1]) / 1024 : NaN,
    lagP99Ms: metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    dbConnections: rows[0].n,
  };
}

async function main() {
  const { ownerUrl, appUrl } = await freshDatabase('tally_soak');
  const db = new pg.Pool({ connectionString: ownerUrl, max: 4 });
  const { apiKey } = await benchTenant(db, 'soak');
  const apps = new BenchApps(appUrl);
  let failed = false;
  try {
    const started = {
      gateway: await apps.start('gateway', 'GATEWAY_PORT'),
      'transaction-worker': await apps.start('transaction-worker', 'WORKER_PORT'),
      // No email is sent in the soak (no tenant has an address): the SMTP server is never dialled.
      notification: await apps.start('notification', 'NOTIFICATION_PORT', {
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: '2525',
      }),
      admin: await apps.start('admin', 'ADMIN_PORT', { ADMIN_JWT_SECRET: 's'.repeat(40) }),
    };
    const gatewayUrl = new URL(started.gateway.url);
    const call = async (route: string, body: unknown, key?: string) => {
      const res = await fetch(`${started.gateway.url}${route}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          ...(key ? { 'idempotency-key': key } : {}),
        },
        body: JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${route}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<{ id: string }>;
    };
    const accounts: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) accounts.push((await call('/v1/accounts', { currency: 'USD' })).id);
    for (const id of accounts) {
      await call(
        '/v1/transactions',
        { type: 'deposit', destinationAccountId: id, amount: 1_000_000_000_000, currency: 'USD' },
        `fund-${id}`,
      );
    }
    await call('/v1/meters', {
      eventType: 'tokens',
      aggregation: 'sum',
      property: 'count',
      unitPrice: 1,
      currency: 'USD',
    });

    const head = (route: string) =>
      `POST ${route} HTTP/1.1\r\nhost: ${gatewayUrl.host}\r\nauthorization: Bearer ${apiKey}\r\ncontent-type: application/json\r\n`;
    let n = 0;
    const pick = () => accounts[Math.floor(Math.random() * accounts.length)];
    const transfer = (): PlannedRequest => {
      const a = pick();
      let b = pick();
      if (a === b) b = accounts[(accounts.indexOf(a) + 1) % accounts.length];
      return {
        kind: 'transfers',
        head: `${head('/v1/transactions')}idempotency-key: soak-${n++}\r\n`,
        body: JSON.stringify({
          type: 'transfer',
          sourceAccountId: a,
          destinationAccountId: b,
          amount: 1 + (n % 100),
          currency: 'USD',
        }),
      };
    };
    const event = (): PlannedRequest => ({
      kind: 'events',
      head: head('/v1/events'),
      body: JSON.stringify({
        id: `soak-ev-${n++}`,
        type: 'tokens',
        accountId: pick(),
        properties: { count: 1 },
      }),
    });

    // Capacity: 32 clients posting transfers back to back for 15 s (after 5 s of warm-up).
    let rate = args.rate ? Number(args.rate) : NaN;
    if (!args.rate) {
      const connections = await Promise.all(
        Array.from({ length: 32 }, () => LoadConnection.open(gatewayUrl.hostname, Number(gatewayUrl.port))),
      );
      const burst = async (seconds: number) => {
        let accepted = 0;
        const until = Date.now() + seconds * 1000;
        await Promise.all(
          connections.map(async (c) => {
            while (Date.now() < until) {
              const r = transfer();
              if ((await c.request(r.head, r.body)) === 202) accepted++;
            }
          }),
        );
        return accepted / seconds;
      };
      await burst(5);
      const capacity = await burst(15);
      for (const c of connections) c.close();
      rate = Math.max(1, Math.round(capacity / 2));
      console.error(`[soak] measured capacity ≈ ${fmt(capacity)} transfers/s; soaking at ${rate}/s`);
    }

    const samples = new Map<string, Sample[]>(Object.keys(started).map((name) => [name, []]));
    const t0 = Date.now();
    const total = MINUTES * 60;
    const sampler = setInterval(() => {
      const at = (Date.now() - t0) / 1000;
      for (const [name, app] of Object.entries(started)) {
        void sample(app, db, `tally-${name}`, at).then(
          (s) => samples.get(name)!.push(s),
          (error: Error) => console.error(`[soak] sampling ${name} failed: ${error.message}`),
        );
      }
      console.error(`[soak] ${fmt(at / 60, 1)} of ${MINUTES} min`);
    }, SAMPLE_SECONDS * 1000);
    const nextKind = mixSequence(MIX);
    const run = await runOpenLoop({
      host: gatewayUrl.hostname,
      port: Number(gatewayUrl.port),
      rate,
      seconds: total,
      // Few connections: when the apps fall behind, requests wait here (their latency shows it)
      // instead of the generator opening sockets that would read as the gateway's own growth.
      maxConnections: 64,
      next: () => (nextKind() === 'events' ? event() : transfer()),
    });
    clearInterval(sampler);
    const answered = run.outcomes.filter((o) => o.status >= 200 && o.status < 300).length;

    console.log('');
    console.log(
      `Tally soak — ${MINUTES} min at ${rate} requests/s (${args.mix}), samples every ${SAMPLE_SECONDS} s, first tenth not judged (node ${process.version}, ${cpus().length} cores)`,
    );
    console.log(`requests: ${run.outcomes.length}, answered 2xx: ${answered}`);
    const minutes = new Map<number, number[]>();
    for (const o of run.outcomes) {
      const m = Math.floor(o.scheduledMs / 60_000);
      (minutes.get(m) ?? minutes.set(m, []).get(m)!).push(o.latencyMs);
    }
    console.log(
      `latency from the scheduled time, p99 per minute (ms): ${[...minutes.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, l]) => fmt(percentiles(l).p99, 0))
        .join(', ')}`,
    );
    console.log('');
    console.log('| app | measure | start | end | slope /min | noise (σ) | grew? |');
    console.log('| --- | --- | ---: | ---: | ---: | ---: | --- |');
    const judged: [keyof Sample, string, number][] = [
      ['rssMiB', 'RSS (MiB)', 16],
      ['lagP99Ms', 'event-loop lag p99 (ms)', 20],
      ['fds', 'open file descriptors', 5],
      ['dbConnections', 'PostgreSQL connections', 2],
    ];
    for (const [name, list] of samples) {
      const sorted = [...list].sort((a, b) => a.at - b.at);
      const measured = sorted.filter((s) => s.at >= total / 10);
      for (const [key, label, floor] of judged) {
        const points = measured
          .map((s) => [s.at / 60, s[key]] as [number, number])
          .filter(([, v]) => Number.isFinite(v));
        if (points.length < 3) continue;
        const { slope, noise } = trend(points);
        const verdict = grows(points, floor);
        if (verdict.grew) failed = true;
        console.log(
          `| ${name} | ${label} | ${fmt(points[0][1])} | ${fmt(points[points.length - 1][1])} | ${fmt(slope, 2)} | ${fmt(noise, 2)} | ${verdict.grew ? `YES (+${fmt(verdict.growth)})` : 'no'} |`,
        );
      }
    }
    if (answered < run.outcomes.length) {
      console.log(`${run.outcomes.length - answered} requests were not answered 2xx`);
      failed = true;
    }
  } finally {
    await apps.stop();
    await db.end();
  }
  if (failed) {
    console.error('[soak] something grew beyond the noise, or requests failed');
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
