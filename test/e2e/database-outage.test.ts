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
  waitFor,
} from '#test-support';

describe('the database unreachable', () => {
  const database = new URL(testSettings().databaseUrl);
  const proxy = new TcpProxy(Number(database.port || 5432));
  const prefix = uniquePrefix('dbdown');
  let gateway: AppProcess;
  let api: Api;

  beforeAll(async () => {
    await proxy.start();
    const port = await freePort();
    gateway = AppProcess.node(distPath('apps/gateway/src/main.js'), {
      GATEWAY_PORT: String(port),
      DATABASE_URL: proxy.via(database),
      AMQP_PREFIX: prefix,
    });
    await gateway.waitForHttp(`http://127.0.0.1:${port}/health/ready`);
    api = new Api(`http://127.0.0.1:${port}`, (await createTenant('Outage')).apiKey);
    assert.equal((await api.get('/v1/accounts')).status, 200);
  });

  afterAll(async () => {
    await gateway.stop();
    await proxy.close();
    await cleanupBroker(prefix);
  });

  it('answers a clean 503 problem (never a 500 or a stack trace), fails readiness, and recovers', async () => {
    proxy.cut();
    const down = await api.post('/v1/accounts', { currency: 'USD' });
    assert.equal(down.status, 503);
    assert.match(down.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(down.body.code, 'service_unavailable');
    assert.equal(down.headers.get('retry-after'), '1');
    assert.doesNotMatch(down.text, /at .*\.js:\d+|Error:/);
    const ready = await fetch(`${api.baseUrl}/health/ready`);
    assert.equal(ready.status, 503);
    assert.equal((await fetch(`${api.baseUrl}/health/live`)).status, 200);

    proxy.restore();
    await waitFor(
      'the gateway to serve again',
      async () => (await api.post('/v1/accounts', { currency: 'USD' })).status === 201,
      20_000,
    );
    assert.equal(gateway.exit, undefined, 'no restart was needed');
  });
});
