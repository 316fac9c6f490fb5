import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Api, Stack, createTenant, waitFor, type AppName } from '#test-support';
import { dashboardExpressions, promqlMetricNames, readRepo } from '../unit/deploy/checks.js';

const APPS: AppName[] = ['gateway', 'transaction-worker', 'notification', 'admin'];

/** Names of the samples in a Prometheus text exposition (histograms give _bucket/_sum/_count). */
function sampleNames(exposition: string): Set<string> {
  return new Set(
    exposition
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]),
  );
}

describe('observability: every series the Grafana dashboard queries is exposed', () => {
  let stack: Stack;
  let api: Api;
  const hooks: string[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      hooks.push(body);
      res.writeHead(200).end('ok');
    });
  });

  beforeAll(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    stack = await Stack.start('observability', APPS, {
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
    });
    api = new Api(stack.url('gateway'), (await createTenant('Observability')).apiKey);
  });

  afterAll(async () => {
    await stack?.stop();
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
  });

  it('after a deposit, a usage event and a webhook, each queried name has samples on some app', async () => {
    const port = (receiver.address() as AddressInfo).port;
    const endpoint = await api.post('/v1/webhook-endpoints', {
      url: `http://127.0.0.1:${port}/hooks`,
      eventTypes: ['transaction.succeeded'],
    });
    assert.equal(endpoint.status, 201, endpoint.text);
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 10_000);
    const meter = await api.post('/v1/meters', {
      eventType: 'tokens',
      aggregation: 'sum',
      property: 'count',
      unitPrice: 2,
      currency: 'USD',
    });
    assert.equal(meter.status, 201, meter.text);
    const usage = await api.post('/v1/events', {
      events: [{ id: 'obs-1', type: 'tokens', accountId: account, properties: { count: 3 } }],
    });
    assert.ok(usage.status < 300, usage.text);
    await waitFor('the webhook to arrive', () => hooks.some((h) => h.includes('transaction.succeeded')));

    const names = new Set<string>();
    const perApp = new Map<AppName, Set<string>>();
    for (const app of APPS) {
      const res = await fetch(`${stack.url(app)}/metrics`);
      assert.equal(res.status, 200);
      const exposition = await res.text();
      const found = sampleNames(exposition);
      perApp.set(app, found);
      // Every app has a database pool, and it has at least the connection that served the work.
      const pool = (state: string) =>
        Number(
          new RegExp(`^tally_db_pool_connections\\{[^}]*state="${state}"[^}]*\\} (\\d+)$`, 'm').exec(
            exposition,
          )?.[1],
        );
      assert.ok(pool('total') >= 1, `${app}: pool total ${pool('total')}`);
      assert.ok(pool('idle') >= 0 && pool('idle') <= pool('total'), `${app}: pool idle ${pool('idle')}`);
      assert.ok(pool('waiting') >= 0, `${app}: pool waiting ${pool('waiting')}`);
      found.forEach((n) => names.add(n));
    }
    const dashboard = JSON.parse(readRepo('k8s/base/grafana/tally.json')) as Record<string, unknown>;
    const queried = [...new Set(dashboardExpressions(dashboard).flatMap(promqlMetricNames))].sort();
    assert.ok(queried.length >= 10, `the dashboard queries ${queried.length} series`);
    const missing = queried.filter((n) => !names.has(n));
    assert.deepEqual(missing, [], `series the dashboard queries that no app exposes`);
    // Queue depths come from the consumers, each for its own queue and DLQ.
    assert.ok(perApp.get('transaction-worker')!.has('tally_queue_messages'));
    assert.ok(perApp.get('notification')!.has('tally_queue_consumers'));
  });

  it('each app shuts down gracefully on SIGTERM (exit code 0)', async () => {
    for (const app of APPS) {
      const { code, signal } = await stack.process(app).stop(20_000);
      assert.deepEqual({ app, code, signal }, { app, code: 0, signal: null });
    }
  });
});
