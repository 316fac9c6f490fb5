import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { dropDatabase, migrateDatabase } from '#persistence';
import { Api, openDataSource, send, separateDatabase, waitFor } from '#test-support';
import { InProcessStack } from '../support/in-process.js';

const ADMIN = { email: 'root@tally.test', password: 'correct horse battery staple' };

describe('admin API: operators, sessions, tenants and keys, audit', () => {
  let stack: InProcessStack;
  let db: DataSource;
  let base: string;

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    return send(
      base,
      method,
      path,
      {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body !== undefined ? JSON.stringify(body) : undefined,
    );
  };
  const login = async (email: string, password: string) => {
    const res = await call('POST', '/admin/api/auth/login', undefined, { email, password });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { accessToken: string; refreshToken: string; expiresIn: number };
  };
  const audit = async (token: string, query: string) =>
    (await call('GET', `/admin/api/audit?${query}`, token)).body.data as { action: string; reason: string }[];

  // A database of its own: the first admin is created only where there is no operator yet.
  const { ownerUrl, appUrl } = separateDatabase('admin');

  beforeAll(async () => {
    await migrateDatabase({
      DATABASE_MIGRATION_URL: ownerUrl,
      DATABASE_STATEMENT_TIMEOUT_MS: 60_000,
    });
    stack = await InProcessStack.start('admin', ['gateway', 'admin'], {
      DATABASE_URL: appUrl,
      DATABASE_MIGRATION_URL: ownerUrl,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ADMIN_JWT_SECRET: 'x'.repeat(40),
    });
    base = stack.url('admin');
    db = await openDataSource(2, ownerUrl);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack.stop();
    await dropDatabase(ownerUrl);
  });

  it('bootstraps the first admin (argon2id); login answers an access and a refresh token', async () => {
    const [op] = await db.query(`SELECT role, password_hash FROM operators WHERE email = $1`, [ADMIN.email]);
    assert.equal(op.role, 'admin');
    assert.match(op.password_hash, /^\$argon2id\$/);
    assert.equal(
      (await call('POST', '/admin/api/auth/login', undefined, { ...ADMIN, password: 'wrong' })).status,
      401,
    );
    assert.equal(
      (await call('POST', '/admin/api/auth/login', undefined, { email: 'nobody@x.io', password: 'x' }))
        .status,
      401,
    );
    const tokens = await login(ADMIN.email, ADMIN.password);
    assert.equal(tokens.expiresIn, 900);
    assert.equal((await call('GET', '/admin/api/me', tokens.accessToken)).body.role, 'admin');
    assert.equal((await call('GET', '/admin/api/me')).status, 401);
    assert.equal((await call('GET', '/admin/api/me', tokens.accessToken + 'x')).status, 401);
  });

  it('refresh tokens rotate; presenting a spent one revokes the whole session', async () => {
    const first = await login(ADMIN.email, ADMIN.password);
    const second = (
      await call('POST', '/admin/api/auth/refresh', undefined, { refreshToken: first.refreshToken })
    ).body;
    assert.ok(second.accessToken && second.refreshToken !== first.refreshToken);
    const third = (
      await call('POST', '/admin/api/auth/refresh', undefined, { refreshToken: second.refreshToken })
    ).body;
    // The spent `second` again: refused, and `third`, of the same family, dies with it.
    const reuse = await call('POST', '/admin/api/auth/refresh', undefined, {
      refreshToken: second.refreshToken,
    });
    assert.equal(reuse.status, 401);
    assert.equal(
      (await call('POST', '/admin/api/auth/refresh', undefined, { refreshToken: third.refreshToken })).status,
      401,
    );
    const other = await login(ADMIN.email, ADMIN.password); // another session is untouched
    assert.equal(
      (await call('POST', '/admin/api/auth/refresh', undefined, { refreshToken: other.refreshToken })).status,
      200,
    );
    assert.ok((await audit(other.accessToken, 'action=auth.refresh_reuse')).length >= 1);
    const loggedOut = await login(ADMIN.email, ADMIN.password);
    assert.equal(
      (await call('POST', '/admin/api/auth/logout', undefined, { refreshToken: loggedOut.refreshToken }))
        .status,
      204,
    );
    assert.equal(
      (await call('POST', '/admin/api/auth/refresh', undefined, { refreshToken: loggedOut.refreshToken }))
        .status,
      401,
    );
  });

  it('roles: a viewer can read but gets 403 on every change; only an admin manages operators', async () => {
    const admin = await login(ADMIN.email, ADMIN.password);
    for (const [email, role] of [
      ['viewer@tally.test', 'viewer'],
      ['ops@tally.test', 'operator'],
    ]) {
      const res = await call('POST', '/admin/api/operators', admin.accessToken, {
        email,
        password: 'a long password!',
        role,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    const viewer = await login('viewer@tally.test', 'a long password!');
    const operator = await login('ops@tally.test', 'a long password!');
    const tenant = (await call('POST', '/admin/api/tenants', operator.accessToken, { name: 'Roles' })).body;
    const changes: [string, string, unknown][] = [
      ['POST', '/admin/api/tenants', { name: 'Nope' }],
      ['POST', `/admin/api/tenants/${tenant.id}/disable`, { reason: 'testing roles' }],
      ['POST', `/admin/api/tenants/${tenant.id}/enable`, { reason: 'testing roles' }],
      ['PUT', `/admin/api/tenants/${tenant.id}/notification-email`, { notificationEmail: 'a@b.io' }],
      ['POST', `/admin/api/tenants/${tenant.id}/keys`, {}],
      ['POST', `/admin/api/tenants/${tenant.id}/keys/key_x/revoke`, { reason: 'testing roles' }],
      ['POST', '/admin/api/operators', { email: 'x@y.io', password: 'a long password!', role: 'admin' }],
    ];
    for (const [method, path, body] of changes) {
      const res = await call(method, path, viewer.accessToken, body);
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.body.code, 'forbidden');
    }
    for (const path of [
      '/admin/api/tenants',
      `/admin/api/tenants/${tenant.id}/keys`,
      '/admin/api/audit',
      '/admin/api/me',
    ]) {
      assert.equal((await call('GET', path, viewer.accessToken)).status, 200, path);
    }
    assert.equal((await call('GET', '/admin/api/operators', operator.accessToken)).status, 403);
    assert.equal(
      (await call('POST', '/admin/api/operators', operator.accessToken, changes[6][2])).status,
      403,
    );
  });

  it('tenants and keys: the key is shown once and works; revoking and disabling stop it; all audited', async () => {
    const op = await login(ADMIN.email, ADMIN.password);
    const tenant = (await call('POST', '/admin/api/tenants', op.accessToken, { name: 'Managed' })).body;
    assert.match(tenant.apiKey, /^tk_/);
    const api = new Api(stack.url('gateway'), tenant.apiKey);
    assert.equal((await api.get('/v1/accounts')).status, 200);
    const key = (await call('POST', `/admin/api/tenants/${tenant.id}/keys`, op.accessToken, { name: 'ci' }))
      .body;
    const second = new Api(stack.url('gateway'), key.apiKey);
    assert.equal((await second.get('/v1/accounts')).status, 200);
    const keys = (await call('GET', `/admin/api/tenants/${tenant.id}/keys`, op.accessToken)).body.data;
    assert.equal(keys.length, 2);
    assert.ok(keys.every((k: Record<string, unknown>) => !('apiKey' in k) && !('key_hash' in k)));

    const revoke = await call(
      'POST',
      `/admin/api/tenants/${tenant.id}/keys/${key.id}/revoke`,
      op.accessToken,
      {
        reason: 'leaked in a log',
      },
    );
    assert.equal(revoke.status, 200);
    await waitFor(
      'the revoked key to stop working',
      async () => (await second.get('/v1/accounts')).status === 401,
      10_000,
    );
    assert.equal((await api.get('/v1/accounts')).status, 200);

    const noReason = await call('POST', `/admin/api/tenants/${tenant.id}/disable`, op.accessToken, {});
    assert.equal(noReason.status, 400);
    await call('POST', `/admin/api/tenants/${tenant.id}/disable`, op.accessToken, {
      reason: 'unpaid invoices',
    });
    await waitFor(
      'the disabled tenant to be refused',
      async () => (await api.get('/v1/accounts')).status === 401,
      10_000,
    );
    await call('POST', `/admin/api/tenants/${tenant.id}/enable`, op.accessToken, { reason: 'paid' });
    await call('PUT', `/admin/api/tenants/${tenant.id}/notification-email`, op.accessToken, {
      notificationEmail: 'billing@managed.io',
    });
    await waitFor(
      'the tenant to work again',
      async () => (await api.get('/v1/accounts')).status === 200,
      10_000,
    );

    const trail = await audit(op.accessToken, `targetId=${tenant.id}`);
    assert.deepEqual(trail.map((a) => a.action).reverse(), [
      'tenant.create',
      'tenant.disable',
      'tenant.enable',
      'tenant.set_notification_email',
    ]);
    assert.equal(trail.find((a) => a.action === 'tenant.disable')!.reason, 'unpaid invoices');
    const keyTrail = await audit(op.accessToken, `targetId=${key.id}`);
    assert.deepEqual(keyTrail.map((a) => a.action).reverse(), ['api_key.create', 'api_key.revoke']);
    assert.equal(
      (await call('POST', '/admin/api/tenants/ten_nope/disable', op.accessToken, { reason: 'nope' })).status,
      404,
    );
  });

  it('a changed role, a disabled operator or an ended session counts from the very next request', async () => {
    const admin = await login(ADMIN.email, ADMIN.password);
    const created = await call('POST', '/admin/api/operators', admin.accessToken, {
      email: 'demoted@tally.test',
      password: 'a long password!',
      role: 'operator',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const op = await login('demoted@tally.test', 'a long password!');
    const createTenant = () => call('POST', '/admin/api/tenants', op.accessToken, { name: 'Demotion' });
    assert.equal((await createTenant()).status, 201);

    // The access token still says "operator" for up to 15 minutes; the operators table decides.
    await db.query(`UPDATE operators SET role = 'viewer' WHERE id = $1`, [created.body.id]);
    const demoted = await createTenant();
    assert.equal(demoted.status, 403, JSON.stringify(demoted.body));
    assert.equal((await call('GET', '/admin/api/me', op.accessToken)).body.role, 'viewer');

    await db.query(`UPDATE operators SET status = 'disabled' WHERE id = $1`, [created.body.id]);
    assert.equal((await call('GET', '/admin/api/me', op.accessToken)).status, 401);

    // Signing out ends the session's access token too, not only its refresh token.
    const session = await login(ADMIN.email, ADMIN.password);
    assert.equal((await call('GET', '/admin/api/me', session.accessToken)).status, 200);
    await call('POST', '/admin/api/auth/logout', undefined, { refreshToken: session.refreshToken });
    assert.equal((await call('GET', '/admin/api/me', session.accessToken)).status, 401);
    // A stolen refresh token used twice revokes the session: its access tokens stop at once.
    const stolen = await login(ADMIN.email, ADMIN.password);
    await call('POST', '/admin/api/auth/refresh', undefined, { refreshToken: stolen.refreshToken });
    await call('POST', '/admin/api/auth/refresh', undefined, { refreshToken: stolen.refreshToken });
    assert.equal((await call('GET', '/admin/api/me', stolen.accessToken)).status, 401);
    assert.equal((await call('GET', '/admin/api/me', admin.accessToken)).status, 200, 'other sessions live');
  });

  it('the audit log is append-only, even for the schema owner', async () => {
    await assert.rejects(db.query(`UPDATE audit_log SET action = 'x'`), /append-only/);
    await assert.rejects(db.query(`DELETE FROM audit_log`), /append-only/);
  });
});
