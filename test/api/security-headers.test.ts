import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { send } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const DASHBOARD_ORIGIN = 'https://dashboard.tally.test';

describe('security misconfiguration guards', () => {
  let stack: InProcessStack;

  beforeAll(async () => {
    stack = await InProcessStack.start('secconf', ['gateway', 'admin'], {
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
      const res = await send(url, 'GET', '');
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
      send(url, 'OPTIONS', '', {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      });
    const allowed = await preflight(`${stack.url('admin')}/admin/api/auth/login`, DASHBOARD_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-origin'), DASHBOARD_ORIGIN);
    const evil = await preflight(`${stack.url('admin')}/admin/api/auth/login`, 'https://evil.example');
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    const simple = await send(stack.url('admin'), 'GET', '/admin/api/me', { origin: 'https://evil.example' });
    assert.equal(simple.headers.get('access-control-allow-origin'), null);
    const gateway = await preflight(`${stack.url('gateway')}/v1/accounts`, DASHBOARD_ORIGIN);
    assert.equal(gateway.headers.get('access-control-allow-origin'), null);
  });

  it('can turn the Swagger UI and the OpenAPI document off', async () => {
    for (const path of ['/docs', '/docs-json']) {
      const res = await send(stack.url('gateway'), 'GET', path);
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    }
  });

  it('never shows a stack trace: an unexpected failure is a bare problem+json', async () => {
    // A path parameter longer than the router accepts, a URL the router cannot decode.
    const { apiKey } = await newTenant('no traces');
    for (const path of [
      `/v1/accounts/${'a'.repeat(5000)}`,
      '/v1/accounts/%E0%A4%A',
      '/v1/accounts/..%2f..%2fetc',
    ]) {
      const res = await send(stack.url('gateway'), 'GET', path, { authorization: `Bearer ${apiKey}` });
      const text = res.text;
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, path);
      assert.doesNotMatch(text, /\bat [\w.<>]+ \(|node_modules|\.js:\d+/, `${path} leaks a stack: ${text}`);
    }
  });
});
