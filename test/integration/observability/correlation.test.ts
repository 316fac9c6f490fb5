import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { cleanupBroker, uniquePrefix, waitFor, type AppProcess } from '#test-support';
import { startFixtureReady } from '../../support/fixture-app/fixture-process.js';

describe('correlation id', () => {
  const prefix = uniquePrefix('corr');
  let fixture: { app: AppProcess; url: string };

  beforeAll(async () => {
    fixture = await startFixtureReady({ prefix });
  });
  afterAll(async () => {
    await fixture.app.stop();
    await cleanupBroker(prefix);
  });

  it('an X-Request-Id travels through the outbox and the message into the consumer log line', async () => {
    const requestId = `req-${Date.now()}-corr`;
    const res = await fetch(`${fixture.url}/fixture/enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ type: 'test.log' }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-request-id'), requestId, 'echoed on the response');
    const { messageIds } = (await res.json()) as { messageIds: string[] };

    const line = await waitFor('the consumer log line', () =>
      fixture.app.logs().find((l) => l.msg === 'fixture handled test.log' && l.messageId === messageIds[0]),
    );
    assert.equal(line.correlationId, requestId);
    assert.equal(line.messageType, 'test.log');
    const access = fixture.app
      .logs()
      .find((l) => l.msg === 'request completed' && l.correlationId === requestId);
    assert.ok(access, 'the HTTP access log line carries it too');
    assert.deepEqual(access.req, { id: requestId, method: 'POST', url: '/fixture/enqueue' });
    assert.deepEqual(access.res, { statusCode: 201 });
    assert.equal(typeof access.responseTime, 'number');
  });

  it('a request without X-Request-Id gets a generated one; an unacceptable one is replaced', async () => {
    const generated = await fetch(`${fixture.url}/health/live`);
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const hostile = await fetch(`${fixture.url}/health/live`, {
      headers: { 'x-request-id': 'x'.repeat(500) },
    });
    assert.match(hostile.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('logs never carry secrets', () => {
  const prefix = uniquePrefix('secrets');
  let fixture: { app: AppProcess; url: string };

  beforeAll(async () => {
    fixture = await startFixtureReady({ prefix, env: { LOG_LEVEL: 'trace' } });
  });
  afterAll(async () => {
    await fixture.app.stop();
    await cleanupBroker(prefix);
  });

  it('an API key, a password or a token in a request reaches no log line', async () => {
    const secret = `tk_${'S'.repeat(32)}`;
    await fetch(`${fixture.url}/fixture/enqueue?token=x`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${secret}`,
        cookie: `session=${secret}`,
      },
      body: JSON.stringify({ type: 'test.log', payload: { password: secret } }),
    });
    await waitFor('the request to be logged', () =>
      fixture.app.logs().some((l) => l.msg === 'request completed'),
    );
    await waitFor('the message to be handled', () =>
      fixture.app.logs().some((l) => l.msg === 'fixture handled test.log'),
    );
    const output = fixture.app.stdout.join('\n') + fixture.app.stderr.join('\n');
    assert.ok(!output.includes(secret), 'the secret appears nowhere in the output');
  });
});
