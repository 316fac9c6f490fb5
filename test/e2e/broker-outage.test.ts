import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import {
  AppProcess,
  TcpProxy,
  cleanupBroker,
  distPath,
  freePort,
  testSettings,
  uniquePrefix,
  waitFor,
} from '#test-support';

describe('health while the broker is unreachable', () => {
  const proxy = new TcpProxy(Number(new URL(testSettings().amqpUrl).port || 5672));
  const prefix = uniquePrefix('outage');
  let gateway: AppProcess;
  let base: string;

  beforeAll(async () => {
    await proxy.start();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    gateway = AppProcess.node(distPath('apps/gateway/src/main.js'), {
      GATEWAY_PORT: String(port),
      DATABASE_URL: testSettings().databaseUrl,
      AMQP_URL: proxy.via(testSettings().amqpUrl),
      AMQP_PREFIX: prefix,
    });
    await gateway.waitForHttp(`${base}/health/ready`);
  });

  afterAll(async () => {
    await gateway.stop();
    await proxy.close();
    await cleanupBroker(prefix);
  });

  it('the gateway stays ready (broker shown degraded) while the broker is cut off, and recovers; liveness never fails', async () => {
    proxy.cut();
    const down = await waitFor('the broker to show as degraded', async () => {
      const res = await fetch(`${base}/health/ready`);
      const body = (await res.json()) as { status: string; details: Record<string, { status: string }> };
      return body.details.broker?.status === 'degraded' ? { code: res.status, body } : false;
    });
    // Writes need only Postgres (accepted work waits in the outbox): the gateway stays in its Service.
    assert.equal(down.code, 200);
    assert.equal(down.body.status, 'degraded');
    assert.equal(down.body.details.database.status, 'up');
    assert.equal((await fetch(`${base}/health/live`)).status, 200);

    proxy.restore();
    await waitFor(
      'the broker to show as up again',
      async () => {
        const body = (await (await fetch(`${base}/health/ready`)).json()) as { status: string };
        return body.status === 'ok';
      },
      20_000,
    );
    assert.equal((await fetch(`${base}/health/live`)).status, 200);
    assert.equal(gateway.exit, undefined, 'the app kept running throughout');
  });
});
