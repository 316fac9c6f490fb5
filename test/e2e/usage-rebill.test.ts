import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, Stack, createTenant, openDataSource, signedInOperator, waitFor } from '#test-support';

let seq = 0;
const eventId = () => `rb-${Date.now()}-${String(seq++).padStart(4, '0')}`;

/** Usage left unbilled because the wallet was empty, billed later by an operator (docs/admin-api.md). */
describe('usage re-bill (admin: POST /admin/api/usage/rebill)', () => {
  let stack: Stack;
  let api: Api;
  let tenantId: string;
  let db: DataSource;
  let operator: string;
  let viewer: string;

  const admin = async (path: string, body: unknown, token = operator) => {
    const res = await fetch(stack.url('admin') + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  };
  const billing = async (id: string) => (await api.get(`/v1/events/${id}`)).body?.billing;
  const billed = (ids: string[], status: string) =>
    waitFor(`${ids.length} events ${status}`, async () => {
      for (const id of ids) if ((await billing(id))?.status !== status) return false;
      return true;
    });
  const balance = async (account: string) => (await api.get(`/v1/accounts/${account}`)).body.balance;
  const charges = async (account: string) =>
    (
      await db.query(
        `SELECT count(*)::int AS n FROM transactions WHERE source_account_id = $1 AND type = 'charge' AND status = 'succeeded'`,
        [account],
      )
    )[0].n;
  const send = async (account: string, n: number) => {
    const ids = Array.from({ length: n }, eventId);
    const res = await api.post('/v1/events', {
      events: ids.map((id) => ({ id, type: 'rebill.call', accountId: account })),
    });
    assert.equal(res.body.accepted, n, res.text);
    return ids;
  };

  beforeAll(async () => {
    stack = await Stack.start('rebill', ['gateway', 'transaction-worker', 'admin'], {
      ADMIN_JWT_SECRET: 'r'.repeat(40),
    });
    const tenant = await createTenant('Rebill');
    tenantId = tenant.tenantId;
    api = new Api(stack.url('gateway'), tenant.apiKey);
    db = await openDataSource(2);
    operator = await signedInOperator(stack.url('admin'), 'operator');
    viewer = await signedInOperator(stack.url('admin'), 'viewer');
    await api.meter({
      eventType: 'rebill.call',
      aggregation: 'count',
      unitPrice: 10,
      currency: 'CREDITS',
    });
  });
  afterAll(async () => {
    await db?.destroy();
    await stack.stop();
  });

  it('usage unbilled for an empty wallet is charged once the wallet is funded; asking again charges nothing more', async () => {
    const wallet = await api.account({ currency: 'CREDITS' });
    await api.deposit(wallet, 15, 'CREDITS');
    const from = new Date(Date.now() - 60_000).toISOString();
    const ids = await send(wallet, 3);
    await billed(ids.slice(0, 1), 'charged');
    await billed(ids.slice(1), 'unbilled');
    assert.equal((await billing(ids[1])).failure.code, 'insufficient_funds');
    await api.deposit(wallet, 100, 'CREDITS');
    const to = new Date(Date.now() + 60_000).toISOString();

    const res = await admin('/admin/api/usage/rebill', {
      tenantId,
      accountId: wallet,
      from,
      to,
      reason: 'wallet topped up',
    });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(res.body, { tenantId, accountId: wallet, from, to, events: 2, more: false });
    await billed(ids, 'charged');
    assert.deepEqual(await balance(wallet), { posted: 85, held: 0, available: 85 });
    assert.equal(await charges(wallet), 3);
    assert.match((await billing(ids[2])).transactionId, /^txn_/);

    const again = await admin('/admin/api/usage/rebill', {
      tenantId,
      accountId: wallet,
      from,
      to,
      reason: 'again',
    });
    assert.equal(again.body.events, 0);
    const [audit] = await db.query(
      `SELECT reason, details FROM audit_log WHERE action = 'usage.rebill' AND target_id = $1 ORDER BY id LIMIT 1`,
      [tenantId],
    );
    assert.equal(audit.reason, 'wallet topped up');
    assert.equal(audit.details.events, 2);
  });

  it('re-bills racing each other charge each event exactly once; what still cannot pay stays unbilled', async () => {
    const wallet = await api.account({ currency: 'CREDITS' });
    const from = new Date(Date.now() - 60_000).toISOString();
    const ids = await send(wallet, 4);
    await billed(ids, 'unbilled');
    await api.deposit(wallet, 25, 'CREDITS'); // enough for two of the four
    const to = new Date(Date.now() + 60_000).toISOString();
    const answers = await Promise.all(
      Array.from({ length: 3 }, () =>
        admin('/admin/api/usage/rebill', { tenantId, accountId: wallet, from, to, reason: 'race' }),
      ),
    );
    for (const a of answers) assert.equal(a.status, 202, a.text);
    await waitFor('every re-bill command to be applied', async () => {
      const [{ sent, applied }] = await db.query(
        `SELECT count(*)::int AS sent, count(i.message_id)::int AS applied
           FROM outbox o LEFT JOIN inbox i ON i.message_id = o.message_id
          WHERE o.routing_key = 'usage.rebill_requested' AND o.payload->>'tenantId' = $1`,
        [tenantId],
      );
      return sent > 0 && sent === applied;
    });
    assert.equal(await charges(wallet), 2);
    assert.deepEqual(await balance(wallet), { posted: 5, held: 0, available: 5 });
    const statuses = await Promise.all(ids.map(async (id) => (await billing(id)).status));
    assert.deepEqual(statuses, ['charged', 'charged', 'unbilled', 'unbilled']);
  });

  it('refuses bad requests (400), an unknown tenant (404) and a viewer (403)', async () => {
    const now = new Date().toISOString();
    const bad = await admin('/admin/api/usage/rebill', {
      tenantId,
      from: now,
      to: now,
      reason: 'same instant',
    });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.code, 'validation_error');
    const extra = await admin('/admin/api/usage/rebill', {
      tenantId,
      from: '2020-01-01T00:00:00Z',
      to: now,
      reason: 'extra',
      amount: 1,
    });
    assert.equal(extra.status, 400);
    const unknown = await admin('/admin/api/usage/rebill', {
      tenantId: 'ten_nope',
      from: '2020-01-01T00:00:00Z',
      to: now,
      reason: 'who',
    });
    assert.equal(unknown.status, 404, unknown.text);
    const forbidden = await admin(
      '/admin/api/usage/rebill',
      { tenantId, from: '2020-01-01T00:00:00Z', to: now, reason: 'viewer' },
      viewer,
    );
    assert.equal(forbidden.status, 403);
  });
});
