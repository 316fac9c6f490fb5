import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import {
  Api,
  AppProcess,
  TcpProxy,
  cleanupBroker,
  createTenant,
  distPath,
  freePort,
  testSettings,
  uniquePrefix,
  waitFinal,
  waitFor,
} from '#test-support';

type Ready = { status: string; details: Record<string, { status: string }> };

const PORT_VARIABLE = {
  gateway: 'GATEWAY_PORT',
  'transaction-worker': 'WORKER_PORT',
  notification: 'NOTIFICATION_PORT',
  admin: 'ADMIN_PORT',
} as const;
type App = keyof typeof PORT_VARIABLE;
const APPS = Object.keys(PORT_VARIABLE) as App[];

/**
 * Every app starts while the broker refuses connections (a pod scheduled during a RabbitMQ
 * outage, or before the RabbitmqCluster is up): HTTP first, consumers in the background. The
 * machine's broker stays up; a proxy in front of it refuses, then lets connections through.
 */
describe('start-up without the broker', () => {
  const proxy = new TcpProxy(Number(new URL(testSettings().amqpUrl).port || 5672));
  const prefix = uniquePrefix('nobroker');
  const apps = new Map<App, { process: AppProcess; url: string }>();
  const ready = async (app: App) => {
    const res = await fetch(`${apps.get(app)!.url}/health/ready`);
    return { status: res.status, body: (await res.json()) as Ready };
  };

  beforeAll(async () => {
    await proxy.start();
    proxy.cut();
    for (const app of APPS) {
      const port = await freePort();
      const process = AppProcess.node(distPath(`apps/${app}/src/main.js`), {
        DATABASE_URL: testSettings().databaseUrl,
        AMQP_URL: proxy.via(testSettings().amqpUrl),
        AMQP_PREFIX: prefix,
        OUTBOX_POLL_INTERVAL_MS: '200',
        LOG_LEVEL: 'warn',
        [PORT_VARIABLE[app]]: String(port),
      });
      apps.set(app, { process, url: `http://127.0.0.1:${port}` });
    }
  });

  afterAll(async () => {
    await Promise.all([...apps.values()].map((a) => a.process.stop()));
    await proxy.close();
    await cleanupBroker(prefix);
  });

  it('serves health and metrics with no broker; the gateway accepts writes (202) and stays ready', async () => {
    for (const app of APPS) {
      // Liveness and metrics come up although no broker connection was ever made.
      await apps.get(app)!.process.waitForHttp(`${apps.get(app)!.url}/health/live`, 60_000);
      assert.equal((await fetch(`${apps.get(app)!.url}/metrics`)).status, 200, `${app} /metrics`);
    }
    // The gateway and admin are ready on the database alone; the broker shows as degraded.
    for (const app of ['gateway', 'admin'] as const) {
      const { status, body } = await ready(app);
      assert.equal(status, 200, `${app} is ready without the broker`);
      assert.equal(body.status, 'degraded');
      assert.equal(body.details.database.status, 'up');
      assert.equal(body.details.broker.status, 'degraded', `${app} shows the broker's state`);
    }
    // The consumers are not ready: they cannot take work without the broker.
    for (const app of ['transaction-worker', 'notification'] as const) {
      const { status, body } = await ready(app);
      assert.equal(status, 503, `${app} is not ready without the broker`);
      assert.equal(body.details.broker.status, 'down');
    }

    const api = new Api(apps.get('gateway')!.url, (await createTenant('No broker')).apiKey);
    const account = await api.account();
    const accepted = await api.post(
      '/v1/transactions',
      { type: 'deposit', destinationAccountId: account, amount: 1250, currency: 'USD' },
      { 'idempotency-key': `nobroker-${Date.now()}` },
    );
    assert.equal(accepted.status, 202, accepted.text);
    assert.equal(accepted.body.status, 'pending');

    // The broker becomes reachable: the consumers connect by themselves and the work drains.
    proxy.restore();
    for (const app of APPS)
      await waitFor(
        `${app} to report the broker up`,
        async () => {
          const { status, body } = await ready(app);
          return status === 200 && body.details?.broker?.status === 'up';
        },
        60_000,
        200,
      );
    const done = await waitFinal(api, accepted.body.id, 60_000);
    assert.equal(done.status, 'succeeded');
    assert.equal((await api.get(`/v1/accounts/${account}`)).body.balance.posted, 1250);
    for (const [app, { process }] of apps) assert.equal(process.exit, undefined, `${app} never exited`);
  });
});
