import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
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
  it('the gateway refuses to start in production without CUSTOMER_TOKEN_SECRET', async () => {
    const proc = AppProcess.node(distPath('apps/gateway/src/main.js'), {
      NODE_ENV: 'production',
      DATABASE_URL: testSettings().databaseUrl,
      GATEWAY_PORT: String(await freePort()),
      WEBHOOK_ENCRYPTION_KEYS: Buffer.alloc(32, 1).toString('base64'),
      CUSTOMER_TOKEN_SECRET: '',
    });
    const { code } = await proc.exited;
    assert.equal(code, 1);
    assert.match(
      proc.stderr.join('\n') + proc.stdout.join('\n'),
      /CUSTOMER_TOKEN_SECRET: must be set in production/,
    );
  });

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
