import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import type { DataSource } from 'typeorm';
import { newId } from '#domain';
import { SecretBox, answerContext, dropDatabase, migrateDatabase } from '#persistence';
import { Api, Stack, createTenant, openDataSource, separateDatabase, tallyCli, waitFor } from '#test-support';

describe('secrets at rest', () => {
  const key = randomBytes(32).toString('base64');
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  let server: http.Server;
  let stack: Stack;
  let api: Api;
  let tenantId: string;
  let db: DataSource;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stack = await Stack.start('secrets', ['gateway', 'transaction-worker', 'notification'], {
      WEBHOOK_ENCRYPTION_KEYS: key,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
    });
    const tenant = await createTenant('Secrets');
    tenantId = tenant.tenantId;
    api = new Api(stack.url('gateway'), tenant.apiKey);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await stack?.stop();
    await db?.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  it('stores API keys as SHA-256 hashes only', async () => {
    const { apiKey, tenantId: id } = await createTenant('Hashed');
    const rows: { key_hash: Buffer; prefix: string }[] = await db.query(
      `SELECT key_hash, prefix FROM api_keys WHERE tenant_id = $1`,
      [id],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0].key_hash.length, 32);
    const everything = JSON.stringify(await db.query(`SELECT * FROM api_keys WHERE tenant_id = $1`, [id]));
    assert.ok(!everything.includes(apiKey.slice(rows[0].prefix.length)), 'the key itself is nowhere');
  });

  it('encrypts webhook signing secrets, and still signs with them', async () => {
    const created = await api.post('/v1/webhook-endpoints', {
      url: url(),
      eventTypes: ['transaction.succeeded'],
    });
    assert.equal(created.status, 201, created.text);
    const { id, secret } = created.body as { id: string; secret: string };
    const [row]: { secret: string }[] = await db.query(`SELECT secret FROM webhook_endpoints WHERE id = $1`, [
      id,
    ]);
    assert.match(row.secret, /^enc:v1:/);
    assert.ok(!row.secret.includes(secret.replace(/^whsec_/, '')), 'no plaintext in the column');

    const account = await api.account();
    await api.deposit(account, 100);
    await waitFor('the webhook', async () => received.length > 0, 15_000);
    const { headers, body } = received[0];
    assert.doesNotThrow(() =>
      new Webhook(secret).verify(body, {
        'webhook-id': String(headers['webhook-id']),
        'webhook-timestamp': String(headers['webhook-timestamp']),
        'webhook-signature': String(headers['webhook-signature']),
      }),
    );
  });

  it('re-encrypts secrets stored in plaintext before encryption at rest (webhooks:reencrypt)', async () => {
    const id = newId('whe');
    await db.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret) VALUES ($1, $2, $3, '{}', 'whsec_legacyplaintext')`,
      [id, tenantId, url()],
    );
    // This tenant's only: other tests' endpoints in this database belong to running apps.
    const result = await tallyCli(['webhooks:reencrypt', tenantId], { WEBHOOK_ENCRYPTION_KEYS: key });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(JSON.parse(result.stdout.trim().split('\n').pop()!).reencrypted >= 1);
    // Without the key a secret is under, the command says so and fails.
    const partial = await tallyCli(['webhooks:reencrypt', tenantId], {
      WEBHOOK_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
    });
    assert.equal(partial.code, 1);
    assert.match(partial.stderr, /under a key that is not configured/);
    const [row]: { secret: string }[] = await db.query(`SELECT secret FROM webhook_endpoints WHERE id = $1`, [
      id,
    ]);
    assert.match(row.secret, /^enc:v1:/);
    // The gateway reads it back under the same key: rotation works on the re-encrypted row.
    const rotated = await api.post(`/v1/webhook-endpoints/${id}/rotate-secret`);
    assert.ok(rotated.status < 300, rotated.text);
    const [after]: { secret: string; previous_secret: string }[] = await db.query(
      `SELECT secret, previous_secret FROM webhook_endpoints WHERE id = $1`,
      [id],
    );
    assert.match(after.secret, /^enc:v1:/);
    assert.match(after.previous_secret, /^enc:v1:/);
  });
});

/**
 * The answers to an endpoint's creation and rotation show its secret, and are kept for
 * Idempotency-Key replays: they were stored in clear in idempotency_keys.response_body. A
 * database of its own, so that everything in it can be searched.
 */
describe('webhook secrets in answers kept for replays', () => {
  const key = randomBytes(32).toString('base64');
  const { ownerUrl, appUrl } = separateDatabase('secrets');
  let stack: Stack;
  let api: Api;
  let tenantId: string;
  let db: DataSource;

  beforeAll(async () => {
    await migrateDatabase({ DATABASE_MIGRATION_URL: ownerUrl, DATABASE_STATEMENT_TIMEOUT_MS: 60_000 });
    stack = await Stack.start('answers', ['gateway'], {
      DATABASE_URL: appUrl,
      DATABASE_MIGRATION_URL: ownerUrl,
      WEBHOOK_ENCRYPTION_KEYS: key,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    });
    const created = await tallyCli(['tenants:create', 'Answers'], { DATABASE_URL: appUrl });
    assert.equal(created.code, 0, created.stderr);
    const tenant = JSON.parse(created.stdout.trim().split('\n').pop()!) as {
      tenantId: string;
      apiKey: string;
    };
    tenantId = tenant.tenantId;
    api = new Api(stack.url('gateway'), tenant.apiKey);
    db = await openDataSource(2, ownerUrl);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
    await dropDatabase(ownerUrl);
  });

  /** Every row of every table of the database, as text. */
  const everything = async () => {
    const tables: { name: string }[] = await db.query(
      `SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    assert.ok(tables.some((t) => t.name === 'public.idempotency_keys'));
    let text = '';
    for (const { name } of tables) {
      const [row]: { rows: string | null }[] = await db.query(
        `SELECT string_agg(t::text, E'\\n') AS rows FROM ${name} t`,
      );
      text += `${name}\n${row.rows ?? ''}\n`;
    }
    return text;
  };

  it('are stored encrypted: no secret anywhere in the database, yet a replay shows it again', async () => {
    const hook = { url: 'http://127.0.0.1:9/hook' };
    const created = await api.post('/v1/webhook-endpoints', hook, { 'idempotency-key': 'create-1' });
    assert.equal(created.status, 201, created.text);
    const { id, secret } = created.body as { id: string; secret: string };
    const path = `/v1/webhook-endpoints/${id}/rotate-secret`;
    const rotated = await api.post(path, undefined, { 'idempotency-key': 'rotate-1' });
    assert.equal(rotated.status, 200, rotated.text);
    const newSecret = rotated.body.secret as string;

    for (const [again, first] of [
      [await api.post('/v1/webhook-endpoints', hook, { 'idempotency-key': 'create-1' }), created],
      [await api.post(path, undefined, { 'idempotency-key': 'rotate-1' }), rotated],
    ] as const) {
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.status, first.status);
      assert.equal(again.text, first.text, 'the very answer, secret included');
    }

    const dump = await everything();
    for (const s of [secret, newSecret]) {
      assert.ok(!dump.includes(s.replace(/^whsec_/, '')), 'a secret is in the database in clear');
    }
    assert.ok(!dump.includes('whsec_'), 'no whsec_ anywhere in the database');
    const [answer]: { response_body: string }[] = await db.query(
      `SELECT response_body FROM idempotency_keys WHERE tenant_id = $1 AND key = 'rotate-1'`,
      [tenantId],
    );
    assert.match(answer.response_body, /^enc:v1:/);
  });

  it('webhooks:reencrypt seals answers kept in clear before, and those under an older key', async () => {
    const created = await api.post('/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/old' });
    assert.equal(created.status, 201, created.text);
    const body = created.text;
    // As written before answers were sealed: the creation's answer in clear, under its key.
    await db.query(
      `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, response_body, response_headers)
       VALUES ($1, 'legacy', 'f', 201, $2, '{}')`,
      [tenantId, body],
    );
    // And one sealed under a key being retired.
    const oldKey = randomBytes(32);
    await db.query(
      `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, response_body, response_headers)
       VALUES ($1, 'old-key', 'f', 201, $2, '{}')`,
      [tenantId, new SecretBox([oldKey]).seal(body, answerContext(tenantId, 'old-key'))],
    );
    const result = await tallyCli(['webhooks:reencrypt', tenantId], {
      DATABASE_URL: appUrl,
      WEBHOOK_ENCRYPTION_KEYS: `${key},${oldKey.toString('base64')}`,
    });
    assert.equal(result.code, 0, result.stderr);
    const box = new SecretBox([Buffer.from(key, 'base64')]);
    for (const k of ['legacy', 'old-key']) {
      const [row]: { response_body: string }[] = await db.query(
        `SELECT response_body FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`,
        [tenantId, k],
      );
      assert.equal(box.isStale(row.response_body), false, `${k} is sealed under the current key`);
      assert.equal(box.open(row.response_body, answerContext(tenantId, k)), body);
    }
    assert.ok(!(await everything()).includes('whsec_'));
  });
});
