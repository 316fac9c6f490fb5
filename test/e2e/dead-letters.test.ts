import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { newId } from '#domain';
import { Api, BrokerProbe, Stack, createTenant, openDataSource, waitFinal, waitFor } from '#test-support';

const ADMIN = { email: 'dl-admin@tally.test', password: 'correct horse battery staple' };

describe('dead letters end to end (admin)', () => {
  let stack: Stack;
  let api: Api;
  let tenantId: string;
  let db: DataSource;
  let probe: BrokerProbe;
  let token: string;

  const admin = async (method: string, path: string, body?: unknown, as = token) => {
    const res = await fetch(stack.url('admin') + path, {
      method,
      headers: {
        authorization: `Bearer ${as}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  /** A transaction.requested command for a transaction the database does not have: the worker dead-letters it. */
  const poison = async (transactionId: string) =>
    probe.publishConfirmed(
      `${stack.prefix}tally.commands`,
      'transaction.requested',
      { transactionId, tenantId },
      { messageId: newId('msg'), type: 'transaction.requested', contentType: 'application/json' },
    );
  /** The dead letter's id once the admin app has stored it. */
  const stored = (transactionId: string) =>
    waitFor(`the dead letter for ${transactionId}`, async () => {
      const [row] = await db.query(`SELECT id FROM dead_letters WHERE payload LIKE '%' || $1 || '%'`, [
        transactionId,
      ]);
      return row?.id as string | undefined;
    });

  beforeAll(async () => {
    stack = await Stack.start('deadletters', ['gateway', 'transaction-worker', 'admin'], {
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      ADMIN_JWT_SECRET: 'y'.repeat(40),
    });
    const tenant = await createTenant('Dead letters');
    tenantId = tenant.tenantId;
    api = new Api(stack.url('gateway'), tenant.apiKey);
    db = await openDataSource(2);
    probe = await BrokerProbe.open();
    // Operators may already exist (another file bootstrapped its admin): make sure ours does.
    const login = async () =>
      fetch(stack.url('admin') + '/admin/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN),
      });
    let res = await login();
    if (res.status !== 200) {
      const { hash } = await import('@node-rs/argon2');
      await db.query(
        `INSERT INTO operators (id, email, password_hash, role) VALUES ($1, $2, $3, 'operator')`,
        [newId('op'), ADMIN.email, await hash(ADMIN.password)],
      );
      res = await login();
    }
    token = ((await res.json()) as { accessToken: string }).accessToken;
  });
  afterAll(async () => {
    await probe?.close();
    await db?.destroy();
    await stack.stop();
  });

  it('a poison message lands in the store; replayed after the cause is fixed, its effect happens once', async () => {
    const account = await api.account();
    const transactionId = newId('txn');
    await poison(transactionId);
    const id = (await stored(transactionId))!;
    const letter = (await admin('GET', `/admin/api/dead-letters/${id}`)).body;
    assert.equal(letter.status, 'pending');
    assert.equal(letter.errorCode, 'transaction_missing');
    assert.equal(letter.failedQueue, 'transaction-worker.commands');
    assert.equal(letter.exchange, `${stack.prefix}tally.commands`);
    assert.equal(letter.routingKey, 'transaction.requested');
    assert.equal(letter.tenantId, tenantId);
    assert.match(letter.error, /does not exist/);
    assert.deepEqual(JSON.parse(letter.payload), { transactionId, tenantId });

    // The cause, fixed: the transaction the command names now exists.
    await db.query(
      `INSERT INTO transactions (id, tenant_id, type, status, amount, currency, destination_account_id)
       VALUES ($1, $2, 'deposit', 'pending', 77, 'USD', $3)`,
      [transactionId, tenantId, account],
    );
    const replay = await admin('POST', `/admin/api/dead-letters/${id}/replay`, {
      reason: 'transaction restored',
    });
    assert.equal(replay.status, 202);
    assert.equal((await waitFinal(api, transactionId)).status, 'succeeded');
    // Replayed again: the worker's inbox (same message id) and the final state make it a no-op.
    assert.equal(
      (await admin('POST', `/admin/api/dead-letters/${id}/replay`, { reason: 'again' })).status,
      202,
    );
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await api.get(`/v1/accounts/${account}`)).body.balance.posted, 77);
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM ledger_entries WHERE transaction_id = $1`,
      [transactionId],
    );
    assert.equal(n, 2);
    const after = (await admin('GET', `/admin/api/dead-letters/${id}`)).body;
    assert.deepEqual([after.status, after.replays], ['replayed', 2]);
    const trail = (await admin('GET', `/admin/api/audit?targetId=${id}`)).body.data;
    assert.deepEqual(
      trail.map((a: { action: string; reason: string }) => [a.action, a.reason]),
      [
        ['dead_letter.replay', 'again'],
        ['dead_letter.replay', 'transaction restored'],
      ],
    );
  });

  it('discard with a reason; bulk replay by filter; a discarded one cannot be replayed', async () => {
    const ids = [newId('txn'), newId('txn'), newId('txn')];
    for (const t of ids) await poison(t);
    const letters = [];
    for (const t of ids) letters.push((await stored(t))!);
    const discarded = await admin('POST', `/admin/api/dead-letters/${letters[0]}/discard`, {
      reason: 'test data',
    });
    assert.equal(discarded.status, 200);
    assert.equal(
      (await admin('POST', `/admin/api/dead-letters/${letters[0]}/replay`, { reason: 'x y z' })).status,
      409,
    );
    assert.equal((await admin('POST', `/admin/api/dead-letters/${letters[1]}/discard`, {})).status, 400);
    const bulk = await admin('POST', '/admin/api/dead-letters/replay', {
      filter: { status: 'pending', errorCode: 'transaction_missing', tenantId },
      reason: 'bulk replay',
    });
    assert.equal(bulk.status, 202);
    assert.ok(bulk.body.replayed >= 2);
    // Still missing: they come back as new dead letters, the old ones marked replayed.
    for (const id of letters.slice(1)) {
      assert.equal((await admin('GET', `/admin/api/dead-letters/${id}`)).body.status, 'replayed');
    }
    await waitFor('the replays to fail again', async () => {
      const [{ n }] = await db.query(
        `SELECT count(*)::int AS n FROM dead_letters WHERE status = 'pending' AND (payload LIKE '%' || $1 || '%' OR payload LIKE '%' || $2 || '%')`,
        [ids[1], ids[2]],
      );
      return n === 2;
    });
  });

  it('a viewer cannot replay or discard', async () => {
    const { hash } = await import('@node-rs/argon2');
    await db.query(
      `INSERT INTO operators (id, email, password_hash, role) VALUES ($1, 'dl-viewer@tally.test', $2, 'viewer')`,
      [newId('op'), await hash('a long password!')],
    );
    const res = await fetch(stack.url('admin') + '/admin/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'dl-viewer@tally.test', password: 'a long password!' }),
    });
    const viewer = ((await res.json()) as { accessToken: string }).accessToken;
    assert.equal((await admin('GET', '/admin/api/dead-letters', undefined, viewer)).status, 200);
    assert.equal(
      (await admin('POST', '/admin/api/dead-letters/dl_x/replay', { reason: 'nope' }, viewer)).status,
      403,
    );
    assert.equal(
      (await admin('POST', '/admin/api/dead-letters/dl_x/discard', { reason: 'nope' }, viewer)).status,
      403,
    );
    assert.equal(
      (await admin('POST', '/admin/api/dead-letters/replay', { filter: {}, reason: 'nope' }, viewer)).status,
      403,
    );
  });
});
