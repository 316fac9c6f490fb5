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
    const proxyPort = await proxy.start();
    const amqp = new URL(testSettings().amqpUrl);
    amqp.port = String(proxyPort);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    gateway = AppProcess.node(distPath('apps/gateway/src/main.js'), {
      GATEWAY_PORT: String(port),
      DATABASE_URL: testSettings().databaseUrl,
      AMQP_URL: amqp.toString(),
      AMQP_PREFIX: prefix,
    });
    await gateway.waitForHttp(`${base}/health/ready`);
  });

  afterAll(async () => {
    await gateway.stop();
    await proxy.close();
    await cleanupBroker(prefix);
  });

  it('readiness fails while the broker is cut off and recovers when it returns; liveness never fails', async () => {
    proxy.cut();
    const down = await waitFor('readiness to fail', async () => {
      const res = await fetch(`${base}/health/ready`);
      return res.status === 503 ? ((await res.json()) as { error: Record<string, unknown> }) : false;
    });
    assert.ok(down.error.broker, 'the broker is named as the failing dependency');
    assert.equal((await fetch(`${base}/health/live`)).status, 200);

    proxy.restore();
    await waitFor(
      'readiness to recover',
      async () => (await fetch(`${base}/health/ready`)).status === 200,
      20_000,
    );
    assert.equal((await fetch(`${base}/health/live`)).status, 200);
    assert.equal(gateway.exit, undefined, 'the app kept running throughout');
  });
});
