import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { newId } from '#domain';
import { Api, openDataSource, send, signIn, signedInOperator, waitFinal, waitFor } from '#test-support';
import { InProcessStack, newTenant, verifiedLedger } from '../support/in-process.js';

describe('admin: interventions on the ledger', () => {
  let stack: InProcessStack;
  let api: Api;
  let db: DataSource;
  const tokens: Record<'first' | 'second' | 'viewer', string> = { first: '', second: '', viewer: '' };

  const admin = async (
    method: string,
    path: string,
    body?: unknown,
    /** One of the operators signed in before, or another's access token. */
    as: keyof typeof tokens | { token: string } = 'first',
    headers: Record<string, string> = {},
  ) => {
    const res = await send(
      stack.url('admin'),
      method,
      path,
      {
        authorization: `Bearer ${typeof as === 'string' ? tokens[as] : as.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body !== undefined ? JSON.stringify(body) : undefined,
    );
    return { status: res.status, body: res.body, headers: res.headers };
  };
  /** An operator of its own, so that its rolling total starts at zero. */
  const freshOperator = async () => ({ token: await signedInOperator(stack.url('admin'), 'operator') });
  /** An adjustment request with a fresh Idempotency-Key. */
  const adjust = (account: string, body: unknown, as: Parameters<typeof admin>[3] = 'first') =>
    admin('POST', `/admin/api/accounts/${account}/adjustments`, body, as, {
      'idempotency-key': `adj-${Math.random().toString(36).slice(2)}`,
    });
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
    const small = await adjust(account, { direction: 'credit', amount: 250, reason: 'goodwill credit' });
    assert.equal(small.status, 202, JSON.stringify(small.body));
    assert.equal(small.body.status, 'executed');
    const credit = await waitFinal(api, small.body.transactionId);
    assert.deepEqual([credit.type, credit.status, credit.amount], ['adjustment', 'succeeded', 250]);
    assert.equal(await balance(account), 750);

    const large = await adjust(account, { direction: 'debit', amount: 5000, reason: 'chargeback' });
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

    // By the second operator: the first one's adjustments today already add up past the threshold.
    const covered = await adjust(
      account,
      { direction: 'debit', amount: 700, reason: 'duplicate top-up reversed' },
      'second',
    );
    assert.equal((await waitFinal(api, covered.body.transactionId)).status, 'succeeded');
    assert.equal(await balance(account), 50);
    for (const bad of [
      { direction: 'credit', amount: 0, reason: 'zero' },
      { direction: 'credit', amount: 5, reason: '' },
      { direction: 'up', amount: 5, reason: 'bad' },
    ]) {
      assert.equal((await adjust(account, bad)).status, 400);
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

  it('adjustments are idempotent per operator: same key and body ⇒ the same answer, another body ⇒ 422', async () => {
    const [alice, bob] = [await freshOperator(), await freshOperator()];
    const account = await api.account();
    const key = { 'idempotency-key': `retry-${Date.now()}` };
    const body = { direction: 'credit', amount: 40, reason: 'goodwill credit' };
    const url = `/admin/api/accounts/${account}/adjustments`;
    const first = await admin('POST', url, body, alice, key);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.equal(first.body.status, 'executed');
    const again = await admin('POST', url, body, alice, key);
    assert.deepEqual([again.status, again.body], [202, first.body]);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    // Ten retries at once still make one adjustment.
    const racing = await Promise.all(Array.from({ length: 10 }, () => admin('POST', url, body, alice, key)));
    assert.ok(racing.every((r) => r.status === 202 && r.body.id === first.body.id));
    const other = await admin('POST', url, { ...body, amount: 41 }, alice, key);
    assert.deepEqual([other.status, other.body.code], [422, 'idempotency_key_reused']);
    // Keys belong to the operator: the same key from another one is a request of its own.
    const theirs = await admin('POST', url, body, bob, key);
    assert.equal(theirs.status, 202);
    assert.notEqual(theirs.body.id, first.body.id);
    const missing = await admin('POST', url, body, alice);
    assert.deepEqual([missing.status, missing.body.code], [400, 'idempotency_key_required']);
    await waitFinal(api, first.body.transactionId);
    await waitFinal(api, theirs.body.transactionId);
    assert.equal(await balance(account), 80, 'two adjustments, however many requests');
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM adjustment_requests WHERE account_id = $1`,
      [account],
    );
    assert.equal(n, 2);
  });

  it('the rolling total is per operator and currency, leaves rejected ones out and forgets the window', async () => {
    const [alice, bob] = [await freshOperator(), await freshOperator()];
    const credit = async (as: { token: string }, account: string, amount: number) =>
      (await adjust(account, { direction: 'credit', amount, reason: 'rolling total' }, as)).body as {
        id: string;
        status: string;
      };
    const usd = await api.account();
    const eur = await api.account({ currency: 'EUR' });
    assert.equal((await credit(alice, usd, 900)).status, 'executed');
    const over = await credit(alice, usd, 200);
    assert.equal(over.status, 'pending_approval', '900 + 200 is past 1000');
    assert.equal((await credit(alice, eur, 900)).status, 'executed', 'another currency has its own total');
    assert.equal((await credit(bob, usd, 900)).status, 'executed', 'another operator has their own');
    const withdrawn = await admin(
      'POST',
      `/admin/api/adjustments/${over.id}/reject`,
      { reason: 'withdrawn' },
      alice,
    );
    assert.equal(withdrawn.status, 200);
    assert.equal((await credit(alice, usd, 100)).status, 'executed', 'the rejected 200 no longer counts');
    assert.equal((await credit(alice, usd, 1)).status, 'pending_approval');
    // A day later (the default window is 24 h) the earlier ones are out of it.
    await db.query(
      `UPDATE adjustment_requests SET created_at = created_at - interval '25 hours' WHERE account_id = $1`,
      [usd],
    );
    assert.equal((await credit(alice, usd, 1000)).status, 'executed');
  });

  it('a rejected re-run of an adjustment leaves the failed one free to re-run', async () => {
    const [alice, bob] = [await freshOperator(), await freshOperator()];
    const account = await api.account();
    const large = await adjust(account, { direction: 'debit', amount: 5000, reason: 'chargeback' }, alice);
    const approved = await admin('POST', `/admin/api/adjustments/${large.body.id}/approve`, undefined, bob);
    assert.equal((await waitFinal(api, approved.body.transactionId)).status, 'failed');
    const rerun = () =>
      admin(
        'POST',
        `/admin/api/transactions/${approved.body.transactionId}/rerun`,
        { reason: 'retry it' },
        alice,
      );
    const first = await rerun();
    assert.deepEqual([first.status, first.body.status], [202, 'pending_approval']);
    assert.equal((await rerun()).status, 409, 'while it waits, it is the one re-run');
    const listed = (await admin('GET', '/admin/api/adjustments?status=pending')).body.data.find(
      (a: { id: string }) => a.id === first.body.id,
    );
    assert.deepEqual([listed.rerunOf, listed.approvalRequired], [approved.body.transactionId, true]);
    const rejected = await admin(
      'POST',
      `/admin/api/adjustments/${first.body.id}/reject`,
      { reason: 'not now' },
      bob,
    );
    assert.equal(rejected.status, 200);
    const second = await rerun();
    assert.deepEqual([second.status, second.body.status], [202, 'pending_approval']);
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
    const twice = await admin(
      'POST',
      `/admin/api/transactions/${failed.id}/rerun`,
      { reason: 'again' },
      'second',
    );
    assert.deepEqual([twice.status, twice.body.code], [409, 'already_rerun']);

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
      ['POST', '/admin/api/payout-mismatches/txn_x/settle'],
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
