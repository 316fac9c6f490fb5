/**
 * node dist/bench/customer-sessions.js — what a customer access token costs over an API key.
 * Every request with a customer token verifies the JWT and looks its session up in PostgreSQL
 * (so a revocation counts from the next request); an API key is answered from a 5-second cache.
 * Drives GET /v1/accounts/{id} on a real gateway (production mode, from dist/) with each kind of
 * credential in turn, and times the session lookup statement alone.
 *   BENCH_SECONDS (10)  BENCH_WARMUP_SECONDS (3)  BENCH_CONCURRENCY (16)  BENCH_LOOKUPS (5000)
 */
import pg from 'pg';
import { BenchApps, benchTenant, fmt, freshDatabase, percentile } from './bench-stack.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 5000);

/** Requests for `seconds` at CONCURRENCY: answered per second and latency percentiles (ms). */
async function drive(url: string, token: string, seconds: number) {
  const latencies: number[] = [];
  let failures = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const start = performance.now();
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        await res.arrayBuffer();
        if (res.status !== 200) failures++;
        latencies.push(performance.now() - start);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures,
  };
}

async function main() {
  const { ownerUrl, appUrl } = await freshDatabase('tally_bench_sessions');
  const db = new pg.Pool({ connectionString: ownerUrl, max: 2 });
  const apps = new BenchApps(appUrl);
  try {
    const { apiKey } = await benchTenant(db, 'bench storefront');
    const gateway = await apps.start('gateway', 'GATEWAY_PORT', {
      RATE_LIMIT_CUSTOMER_BURST: '1000000',
      RATE_LIMIT_CUSTOMER_PER_SECOND: '1000000',
    });
    const post = async (path: string, body: object) => {
      const res = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, string>;
    };
    const account = (await post('/v1/accounts', { currency: 'USD' })).id;
    const { accessToken } = await post('/v1/customer-sessions', { accountId: account });
    const url = `${gateway.url}/v1/accounts/${account}`;

    console.log(
      `GET /v1/accounts/{id}, ${CONCURRENCY} at once, ${SECONDS} s each (after ${WARMUP_SECONDS} s warm-up)`,
    );
    console.log('| credential | answers/s | p50 ms | p99 ms | not 200 |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    // Each twice, alternating, so neither gets the machine's quieter moment only.
    for (const [name, token] of [
      ['API key', apiKey],
      ['customer token', accessToken],
      ['API key', apiKey],
      ['customer token', accessToken],
    ]) {
      await drive(url, token, WARMUP_SECONDS);
      const r = await drive(url, token, SECONDS);
      console.log(
        `| ${name} | ${fmt(r.perSecond, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${r.failures} |`,
      );
    }

    // The statement every customer request runs, alone, one at a time over one connection.
    const [, payload] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, string>;
    const client = await new pg.Pool({ connectionString: appUrl, max: 1 }).connect();
    const times: number[] = [];
    for (let i = 0; i < LOOKUPS; i++) {
      const start = performance.now();
      await client.query({
        name: 'live-session',
        text: `SELECT 1 FROM customer_sessions s JOIN tenants t ON t.id = s.tenant_id
                WHERE s.id = $1 AND s.tenant_id = $2 AND s.account_id = $3
                  AND s.revoked_at IS NULL AND s.expires_at > now() AND t.status = 'active'`,
        values: [claims.sid, claims.tid, claims.sub],
      });
      times.push(performance.now() - start);
    }
    client.release();
    times.sort((a, b) => a - b);
    console.log(
      `session lookup alone (${LOOKUPS}, one connection): p50 ${fmt(percentile(times, 50), 3)} ms, p99 ${fmt(percentile(times, 99), 3)} ms`,
    );
  } finally {
    await apps.stop();
    await db.end();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
