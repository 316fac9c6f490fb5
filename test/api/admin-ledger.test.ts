import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { newId } from '#domain';
import { Api, openDataSource, send, signIn, waitFinal, waitFor } from '#test-support';
import { InProcessStack, newTenant, verifiedLedger } from '../support/in-process.js';

describe('admin: interventions on the ledger', () => {
  let stack: InProcessStack;
  let api: Api;
  let db: DataSource;
  const tokens: Record<'first' | 'second' | 'viewer', string> = { first: '', second: '', viewer: '' };

  const admin = async (method: string, path: string, body?: unknown, as: keyof typeof tokens = 'first') => {
    const res = await send(
      stack.url('admin'),
      method,
      path,
      {
        authorization: `Bearer ${tokens[as]}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body !== undefined ? JSON.stringify(body) : undefined,
    );
    return { status: res.status, body: res.body };
  };
  const balance = async (account: string) => (await api.get(`/v1/accounts/${account}`)).body.balance.posted;

  beforeAll(async () => {
    stack = await InProcessStack.start('adminledger', ['gateway', 'transaction-worker', 'admin'], {
      ADMIN_JWT_SECRET: 'z'.repeat(40),
      ADMIN_ADJUSTMENT_APPROVAL_THRESHOLD: '1000',
    });
    api = new Api(stack.url('gateway'), (await newTenant('Interventions')).apiKey);
    db = await openDataSource(2);
    const { hash } = await import('@node-rs/argon2');
    for (const [who, role] of [
      ['first', 'operator'],
      ['second', 'operator'],
      ['viewer', 'viewer'],
    ] as const) {
      const email = `${who}-${Date.now()}@ledger.test`;
      await db.query(`INSERT INTO operators (id, email, password_hash, role) VALUES ($1, $2, $3, $4)`, [
        newId('op'),
        email,
        await hash('a long password!'),
        role,
      ]);
      tokens[who] = (await signIn(stack.url('admin'), email, 'a long password!')).accessToken;
    }
  });
  afterAll(async () => {
    await db?.destroy();
    await stack.stop();
  });

  it('freeze stops money moving; unfreeze lets it move again; both audited with the reason', async () => {
    const account = await api.account();
    await api.deposit(account, 100);
    assert.equal(
      (await admin('POST', `/admin/api/accounts/${account}/freeze`, { reason: 'fraud review' })).status,
      200,
    );
    const refused = await api.transact({
      type: 'withdrawal',
      sourceAccountId: account,
      amount: 10,
      currency: 'USD',
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.code, 'account_frozen');
    assert.equal(
      (await admin('POST', `/admin/api/accounts/${account}/unfreeze`, { reason: 'cleared' })).status,
      200,
    );
    const ok = await api.transact({
      type: 'withdrawal',
      sourceAccountId: account,
      amount: 10,
      currency: 'USD',
    });
    assert.equal((await waitFinal(api, ok.body.id)).status, 'succeeded');
    const trail = (await admin('GET', `/admin/api/audit?targetId=${account}`)).body.data;
    assert.deepEqual(
      trail.map((a: { action: string; reason: string }) => [a.action, a.reason]),
      [
        ['account.unfreeze', 'cleared'],
        ['account.freeze', 'fraud review'],
      ],
    );
    const viewer = await admin(
      'POST',
      `/admin/api/accounts/${account}/freeze`,
      { reason: 'x y z' },
      'viewer',
    );
    assert.equal(viewer.status, 403);
  });

  it('small adjustments go through the worker at once; large ones need a second operator', async () => {
    const account = await api.account();
    await api.deposit(account, 500);
    const small = await admin('POST', `/admin/api/accounts/${account}/adjustments`, {
      direction: 'credit',
      amount: 250,
      reason: 'goodwill credit',
    });
    assert.equal(small.status, 202, JSON.stringify(small.body));
    assert.equal(small.body.status, 'executed');
    const credit = await waitFinal(api, small.body.transactionId);
    assert.deepEqual([credit.type, credit.status, credit.amount], ['adjustment', 'succeeded', 250]);
    assert.equal(await balance(account), 750);

    const large = await admin('POST', `/admin/api/accounts/${account}/adjustments`, {
      direction: 'debit',
      amount: 5000,
      reason: 'chargeback',
    });
    assert.equal(large.body.status, 'pending_approval');
    const self = await admin('POST', `/admin/api/adjustments/${large.body.id}/approve`);
    assert.equal(self.status, 403);
    assert.equal(self.body.code, 'second_approval_required');
    const byViewer = await admin(
      'POST',
      `/admin/api/adjustments/${large.body.id}/approve`,
      undefined,
      'viewer',
    );
    assert.equal(byViewer.status, 403);
    const approved = await admin(
      'POST',
      `/admin/api/adjustments/${large.body.id}/approve`,
      undefined,
      'second',
    );
    assert.equal(approved.status, 202);
    // A debit the account cannot cover fails like any other: never a negative balance.
    const debit = await waitFinal(api, approved.body.transactionId);
    assert.deepEqual([debit.status, debit.failure.code], ['failed', 'insufficient_funds']);
    assert.equal(await balance(account), 750);
    const again = await admin('POST', `/admin/api/adjustments/${large.body.id}/approve`, undefined, 'second');
    assert.equal(again.status, 409);

    const covered = await admin('POST', `/admin/api/accounts/${account}/adjustments`, {
      direction: 'debit',
      amount: 700,
      reason: 'duplicate top-up reversed',
    });
    assert.equal((await waitFinal(api, covered.body.transactionId)).status, 'succeeded');
    assert.equal(await balance(account), 50);
    for (const bad of [
      { direction: 'credit', amount: 0, reason: 'zero' },
      { direction: 'credit', amount: 5, reason: '' },
      { direction: 'up', amount: 5, reason: 'bad' },
    ]) {
      assert.equal((await admin('POST', `/admin/api/accounts/${account}/adjustments`, bad)).status, 400);
    }
    const actions = (await admin('GET', `/admin/api/audit?targetId=${account}`)).body.data.map(
      (a: { action: string }) => a.action,
    );
    assert.deepEqual(actions, [
      'adjustment.execute',
      'adjustment.approve',
      'adjustment.request',
      'adjustment.execute',
    ]);
    const verify = await verifiedLedger();
    assert.ok(verify.ok, verify.report);
  });

  it('a failed transaction is re-run as a new one; search and detail show it', async () => {
    const account = await api.account();
    const failed = await waitFinal(
      api,
      (await api.transact({ type: 'withdrawal', sourceAccountId: account, amount: 40, currency: 'USD' })).body
        .id,
    );
    assert.equal(failed.status, 'failed');
    await api.deposit(account, 100);
    const rerun = await admin('POST', `/admin/api/transactions/${failed.id}/rerun`, {
      reason: 'customer topped up',
    });
    assert.equal(rerun.status, 202, JSON.stringify(rerun.body));
    assert.notEqual(rerun.body.id, failed.id);
    assert.equal((await waitFinal(api, rerun.body.id)).status, 'succeeded');
    assert.equal((await api.get(`/v1/transactions/${failed.id}`)).body.status, 'failed');
    assert.equal(await balance(account), 60);
    const notFailed = await admin('POST', `/admin/api/transactions/${rerun.body.id}/rerun`, {
      reason: 'nope',
    });
    assert.equal(notFailed.status, 409);

    const found = (await admin('GET', `/admin/api/transactions?accountId=${account}&status=failed`)).body
      .data;
    assert.deepEqual(
      found.map((t: { id: string }) => t.id),
      [failed.id],
    );
    const detail = (await admin('GET', `/admin/api/transactions/${rerun.body.id}`)).body;
    assert.equal(detail.metadata.rerunOf, failed.id);
    assert.equal(detail.entries.length, 2);
    assert.ok(detail.timeline.some((s: { what: string }) => s.what === 'succeeded'));
    assert.ok(detail.messages.some((m: { type: string }) => m.type === 'transaction.requested'));
  });

  it('metrics for the dashboard: throughput, success rates, latency percentiles, queues, outbox, dead letters', async () => {
    const res = await admin('GET', '/admin/api/metrics?window=15m', undefined, 'viewer');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const m = res.body;
    const withdrawals = m.transactions.find((t: { type: string }) => t.type === 'withdrawal');
    assert.ok(withdrawals.total >= 3 && withdrawals.succeeded >= 2 && withdrawals.failed >= 1);
    assert.ok(withdrawals.successRate > 0 && withdrawals.successRate < 1);
    assert.ok(withdrawals.latencyMs.p50 > 0 && withdrawals.latencyMs.p99 >= withdrawals.latencyMs.p50);
    const adjustments = m.transactions.find((t: { type: string }) => t.type === 'adjustment');
    assert.ok(adjustments.total >= 3);
    const commands = m.queues.find((q: { queue: string }) => q.queue === 'transaction-worker.commands');
    assert.ok(commands.consumers >= 1);
    assert.equal(typeof commands.messages, 'number');
    assert.ok(m.queues.some((q: { queue: string }) => q.queue.endsWith('.dlq')));
    assert.equal(typeof m.outbox.backlog, 'number');
    assert.equal(typeof m.deadLetters.pending, 'number');
    assert.equal((await admin('GET', '/admin/api/metrics?window=2d')).status, 400);
  });

  it('usage logs; a failed usage event re-run is processed again (once more failing, one failure row); webhook redelivery', async () => {
    const event = `bad-purchase-${Date.now()}`;
    const sent = await api.post('/v1/events', { id: event, type: 'purchase', properties: { amount: -1 } });
    assert.equal(sent.status, 202);
    const failedEvent = async () =>
      (await admin('GET', `/admin/api/usage-events?type=purchase&status=failed`)).body.data.find(
        (e: { id: string }) => e.id === event,
      );
    const failed = await waitFor('the event to fail', failedEvent);
    assert.equal(failed.failureCode, 'invalid_purchase');
    const rerun = await admin('POST', `/admin/api/usage-events/${failed.tenantId}/${event}/rerun`, {
      reason: 'rules fixed',
    });
    assert.equal(rerun.status, 202);
    await waitFor('the re-run to finish', async () => (await failedEvent()) !== undefined);
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM usage_failed WHERE event_id = $1`, [
      event,
    ]);
    assert.equal(n, 1);
    const again = await admin('POST', `/admin/api/usage-events/${failed.tenantId}/nope/rerun`, {
      reason: 'x y z',
    });
    assert.equal(again.status, 404);

    // A failed delivery (no notification app here: it stays pending once redelivered).
    const endpointId = newId('whe');
    const deliveryId = newId('dlv');
    await db.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, secret) VALUES ($1, $2, 'https://example.com/h', 'whsec_x')`,
      [endpointId, failed.tenantId],
    );
    await db.query(
      `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, payload, status, attempts)
       VALUES ($1, $2, $3, 'evt_x', 'transaction.succeeded', '{}', 'failed', 7)`,
      [deliveryId, failed.tenantId, endpointId],
    );
    const listed = (
      await admin('GET', `/admin/api/webhook-deliveries?endpointId=${endpointId}`, undefined, 'viewer')
    ).body.data;
    assert.deepEqual(
      listed.map((d: { id: string; status: string }) => [d.id, d.status]),
      [[deliveryId, 'failed']],
    );
    const viewer = await admin(
      'POST',
      `/admin/api/webhook-deliveries/${deliveryId}/redeliver`,
      { reason: 'x y z' },
      'viewer',
    );
    assert.equal(viewer.status, 403);
    assert.equal(
      (
        await admin('POST', `/admin/api/webhook-deliveries/${deliveryId}/redeliver`, {
          reason: 'receiver fixed',
        })
      ).status,
      202,
    );
    const [delivery] = await db.query(`SELECT status, attempts FROM webhook_deliveries WHERE id = $1`, [
      deliveryId,
    ]);
    assert.deepEqual([delivery.status, delivery.attempts], ['pending', 0]);
    const endpoints = (
      await admin('GET', `/admin/api/webhook-endpoints?tenantId=${failed.tenantId}`, undefined, 'viewer')
    ).body.data;
    assert.deepEqual(
      endpoints.map((e: { id: string; pending: number; failed: number }) => [e.id, e.pending, e.failed]),
      [[endpointId, 1, 0]],
    );
    const actions = (await admin('GET', `/admin/api/audit?targetId=${deliveryId}`)).body.data.map(
      (a: { action: string }) => a.action,
    );
    assert.deepEqual(actions, ['webhook_delivery.redeliver']);
  });

  it('a viewer gets 403 on every change the admin API offers', async () => {
    const changes: [string, string][] = [
      ['POST', '/admin/api/tenants'],
      ['POST', '/admin/api/tenants/ten_x/disable'],
      ['POST', '/admin/api/tenants/ten_x/enable'],
      ['PUT', '/admin/api/tenants/ten_x/notification-email'],
      ['POST', '/admin/api/tenants/ten_x/keys'],
      ['POST', '/admin/api/tenants/ten_x/keys/key_x/revoke'],
      ['POST', '/admin/api/operators'],
      ['POST', '/admin/api/dead-letters/dl_x/replay'],
      ['POST', '/admin/api/dead-letters/replay'],
      ['POST', '/admin/api/dead-letters/dl_x/discard'],
      ['POST', '/admin/api/accounts/acc_x/freeze'],
      ['POST', '/admin/api/accounts/acc_x/unfreeze'],
      ['POST', '/admin/api/accounts/acc_x/adjustments'],
      ['POST', '/admin/api/adjustments/adj_x/approve'],
      ['POST', '/admin/api/adjustments/adj_x/reject'],
      ['POST', '/admin/api/transactions/txn_x/rerun'],
      ['POST', '/admin/api/usage-events/ten_x/e_x/rerun'],
      ['POST', '/admin/api/webhook-deliveries/dlv_x/redeliver'],
    ];
    for (const [method, path] of changes) {
      const res = await admin(method, path, { reason: 'just looking' }, 'viewer');
      assert.equal(res.status, 403, `${method} ${path}`);
    }
    const actions = (await admin('GET', '/admin/api/audit?limit=500')).body.data.map(
      (a: { reason: string }) => a.reason,
    );
    assert.ok(!actions.includes('just looking'), 'a refused change leaves no audit row');
  });
});
