import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import {
  Api,
  AppProcess,
  Stack,
  createOperator,
  createTenant,
  distPath,
  freePort,
  signIn,
  testSettings,
} from '#test-support';

const DASHBOARD_ORIGIN = 'https://dashboard.tally.test';

describe('security misconfiguration guards', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start('secconf', ['gateway', 'admin'], {
      DOCS_ENABLED: 'false',
      ADMIN_CORS_ORIGINS: DASHBOARD_ORIGIN,
      LOG_LEVEL: 'debug',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    });
  });
  afterAll(() => stack?.stop());

  it('sends the helmet security headers from every app, on success and on error', async () => {
    for (const url of [
      `${stack.url('gateway')}/v1/accounts`,
      `${stack.url('gateway')}/health/live`,
      `${stack.url('admin')}/admin/api/me`,
      `${stack.url('admin')}/`,
    ]) {
      const res = await fetch(url);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', url);
      assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=\d+/, url);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/, url);
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'self'/, url);
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN', url);
      assert.equal(res.headers.get('x-powered-by'), null, url);
    }
  });

  it('allows CORS only for the dashboard origin on the admin API, and for no origin on the gateway', async () => {
    const preflight = (url: string, origin: string) =>
      fetch(url, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const allowed = await preflight(`${stack.url('admin')}/admin/api/auth/login`, DASHBOARD_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-origin'), DASHBOARD_ORIGIN);
    const evil = await preflight(`${stack.url('admin')}/admin/api/auth/login`, 'https://evil.example');
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    const simple = await fetch(`${stack.url('admin')}/admin/api/me`, {
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(simple.headers.get('access-control-allow-origin'), null);
    const gateway = await preflight(`${stack.url('gateway')}/v1/accounts`, DASHBOARD_ORIGIN);
    assert.equal(gateway.headers.get('access-control-allow-origin'), null);
  });

  it('can turn the Swagger UI and the OpenAPI document off', async () => {
    for (const path of ['/docs', '/docs-json']) {
      const res = await fetch(stack.url('gateway') + path);
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    }
  });

  it('never shows a stack trace: an unexpected failure is a bare problem+json', async () => {
    // A path parameter longer than the router accepts, a URL the router cannot decode.
    const { apiKey } = await createTenant('no traces');
    for (const path of [
      `/v1/accounts/${'a'.repeat(5000)}`,
      '/v1/accounts/%E0%A4%A',
      '/v1/accounts/..%2f..%2fetc',
    ]) {
      const res = await fetch(stack.url('gateway') + path, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      const text = await res.text();
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, path);
      assert.doesNotMatch(text, /\bat [\w.<>]+ \(|node_modules|\.js:\d+/, `${path} leaks a stack: ${text}`);
    }
  });
});

describe('secrets stay out of the logs', () => {
  it('logs neither API keys, passwords, tokens nor webhook secrets, even at debug level', async () => {
    const stack = await Stack.start('redaction', ['gateway', 'admin'], {
      LOG_LEVEL: 'debug',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    });
    const operator = await createOperator('viewer');
    try {
      const { apiKey } = await createTenant('redaction');
      const api = new Api(stack.url('gateway'), apiKey);
      await api.account();
      await api.get('/v1/accounts?limit=1');
      await api.post('/v1/accounts', { currency: 'USD', metadata: { password: 'hunter2hunter2' } });
      const hook = await api.post('/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/x' });
      assert.equal(hook.status, 201, hook.text);
      await api.post(`/v1/webhook-endpoints/${hook.body.id}/rotate-secret`);
      const tokens = await signIn(stack.url('admin'), operator.email, operator.password);
      await fetch(`${stack.url('admin')}/admin/api/me`, {
        headers: { authorization: `Bearer ${tokens.accessToken}` },
      });
      await fetch(`${stack.url('admin')}/admin/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: operator.email, password: 'a wrong password to log' }),
      });
      const logs = ['gateway', 'admin'].flatMap((app) => {
        const p = stack.process(app as 'gateway' | 'admin');
        return [...p.stdout, ...p.stderr];
      });
      assert.ok(logs.length > 5, 'the apps logged at debug level');
      const secretPart = (s: string) => s.slice(-16);
      for (const [what, secret] of [
        ['API key', secretPart(apiKey)],
        ['webhook secret', secretPart(hook.body.secret)],
        ['password', operator.password],
        ['wrong password', 'a wrong password to log'],
        ['access token', secretPart(tokens.accessToken)],
        ['refresh token', secretPart(tokens.refreshToken)],
      ]) {
        assert.ok(!logs.some((line) => line.includes(secret)), `a ${what} is in the logs`);
      }
    } finally {
      await stack.stop();
    }
  });
});

describe('production configuration', () => {
  for (const app of ['gateway', 'notification'] as const) {
    it(`the ${app} refuses to start in production without WEBHOOK_ENCRYPTION_KEYS`, async () => {
      const proc = AppProcess.node(distPath(`apps/${app}/src/main.js`), {
        NODE_ENV: 'production',
        DATABASE_URL: testSettings().databaseUrl,
        GATEWAY_PORT: String(await freePort()),
        NOTIFICATION_PORT: String(await freePort()),
        WEBHOOK_ENCRYPTION_KEYS: '',
      });
      const { code } = await proc.exited;
      assert.equal(code, 1);
      assert.match(
        proc.stderr.join('\n') + proc.stdout.join('\n'),
        /WEBHOOK_ENCRYPTION_KEYS: must be set in production/,
      );
    });
  }

  it('rejects an encryption key that is not 32 bytes', async () => {
    const proc = AppProcess.node(distPath('apps/gateway/src/main.js'), {
      DATABASE_URL: testSettings().databaseUrl,
      GATEWAY_PORT: String(await freePort()),
      WEBHOOK_ENCRYPTION_KEYS: Buffer.alloc(16).toString('base64'),
    });
    const { code } = await proc.exited;
    assert.equal(code, 1);
    assert.match(
      proc.stderr.join('\n') + proc.stdout.join('\n'),
      /WEBHOOK_ENCRYPTION_KEYS: each key must be 32 bytes/,
    );
  });
});
