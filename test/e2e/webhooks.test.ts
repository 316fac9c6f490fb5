import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';
import type { DataSource } from 'typeorm';
import {
  Api,
  BrokerProbe,
  Receiver,
  Stack,
  createTenant,
  openDataSource,
  tallyCli,
  waitFinal,
  waitFor,
} from '#test-support';

describe('webhooks and email (notification app)', () => {
  let stack: Stack;
  let api: Api;
  let tenantId: string;
  let db: DataSource;
  let probe: BrokerProbe;
  const receiver = new Receiver();
  const mail: { to: string; subject: string; raw: string }[] = [];
  let smtp: SMTPServer;

  const endpoint = async (path: string, body: Record<string, unknown> = {}) => {
    const res = await api.post('/v1/webhook-endpoints', { url: receiver.url(path), ...body });
    assert.equal(res.status, 201, res.text);
    return res.body as { id: string; secret: string };
  };
  const deliveries = async (endpointId: string) =>
    (await api.get(`/v1/webhook-endpoints/${endpointId}/deliveries?limit=100`)).body.data;

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        let raw = '';
        stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
        stream.on('end', () => {
          mail.push({
            to: session.envelope.rcptTo.map((r) => r.address).join(','),
            subject: /^Subject: (.*)$/m.exec(raw)?.[1] ?? '',
            raw,
          });
          callback();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    await receiver.start();
    stack = await Stack.start('webhooks', ['gateway', 'transaction-worker'], {
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_RETRY_SCHEDULE_MS: '200,400,800',
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
      WEBHOOK_DISABLE_AFTER_MS: '60000',
      // Short, so that giving up on a missing event can be shown; ample for the rest.
      WEBHOOK_ORDER_WAIT_MS: '5000',
      SMTP_PORT: String(smtpPort),
    });
    await stack.startApp('notification');
    const tenant = await createTenant('Hooks');
    tenantId = tenant.tenantId;
    api = new Api(stack.url('gateway'), tenant.apiKey);
    db = await openDataSource(2);
    const set = await tallyCli(['tenants:set-email', tenantId, 'ops@hooks.test']);
    assert.equal(set.code, 0, set.stderr);
    probe = await BrokerProbe.open();
  });
  afterAll(async () => {
    await probe?.close();
    await db?.destroy();
    await stack.stop();
    await receiver.stop();
    await new Promise<void>((r) => smtp.close(() => r()));
  });

  it('endpoints API: secret shown once, listed, updated, deleted; bad URLs refused', async () => {
    const created = await endpoint('/api', { eventTypes: ['transaction.succeeded'], description: 'main' });
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    const got = (await api.get(`/v1/webhook-endpoints/${created.id}`)).body;
    assert.equal(got.secret, undefined);
    assert.deepEqual(
      [got.status, got.eventTypes, got.description],
      ['enabled', ['transaction.succeeded'], 'main'],
    );
    const patched = await api.request('PATCH', `/v1/webhook-endpoints/${created.id}`, {
      body: { status: 'disabled', eventTypes: [] },
    });
    assert.deepEqual([patched.body.status, patched.body.eventTypes], ['disabled', []]);
    assert.ok(
      (await api.get('/v1/webhook-endpoints')).body.data.some((e: { id: string }) => e.id === created.id),
    );
    assert.equal((await api.request('DELETE', `/v1/webhook-endpoints/${created.id}`)).status, 204);
    assert.equal((await api.get(`/v1/webhook-endpoints/${created.id}`)).status, 404);
    for (const [body, code] of [
      [{ url: 'ftp://example.com/x' }, 'webhook_url_refused'],
      [{ url: 'http://user:pw@127.0.0.1/x' }, 'webhook_url_refused'],
      [{ url: 'not a url' }, 'webhook_url_refused'],
      [{ url: receiver.url('/x'), eventTypes: ['nope'] }, 'validation_error'],
      [{ url: receiver.url('/x'), extra: 1 }, 'validation_error'],
    ] as const) {
      const res = await api.post('/v1/webhook-endpoints', body);
      assert.equal(res.body.code, code, JSON.stringify(body));
    }
  });

  it('an endpoint at 127.0.0.1 is refused unless allow-listed; production requires https', async () => {
    const strict = await stack.startExtra('gateway', { WEBHOOK_ALLOWED_HOSTS: '' });
    const strictApi = new Api(strict.url, (await createTenant('Strict')).apiKey);
    for (const url of [
      receiver.url('/x'),
      'http://localhost:9/x',
      'http://10.1.2.3/x',
      'http://169.254.169.254/latest',
      'http://[::1]:9/x',
    ]) {
      const res = await strictApi.post('/v1/webhook-endpoints', { url });
      assert.equal(res.status, 422, url);
      assert.equal(res.body.code, 'webhook_url_refused');
    }
    const production = await stack.startExtra('gateway', {
      NODE_ENV: 'production',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
      CUSTOMER_TOKEN_SECRET: randomBytes(32).toString('hex'),
    });
    const productionApi = new Api(production.url, (await createTenant('Production')).apiKey);
    const plain = await productionApi.post('/v1/webhook-endpoints', { url: receiver.url('/x') });
    assert.equal(plain.status, 422);
    assert.match(plain.body.detail, /https/);
    const allowed = await stack.startExtra('gateway', { WEBHOOK_ALLOWED_HOSTS: '10.0.0.0/8' });
    const allowedApi = new Api(allowed.url, (await createTenant('Allowed')).apiKey);
    assert.equal((await allowedApi.post('/v1/webhook-endpoints', { url: 'http://10.1.2.3/x' })).status, 201);
    assert.equal(
      (await allowedApi.post('/v1/webhook-endpoints', { url: 'http://192.168.1.1/x' })).status,
      422,
    );
  });

  it('a succeeded transaction reaches its endpoint once, signed per Standard Webhooks', async () => {
    const hook = await endpoint('/signed', { eventTypes: ['transaction.succeeded'] });
    const account = await api.account();
    const t = await api.deposit(account, 250);
    await waitFor('the webhook', () => receiver.at('/signed').length === 1);
    const [request] = receiver.at('/signed');
    // An independent implementation verifies it (throws if the signature is wrong).
    const verified = new Webhook(hook.secret).verify(request.body, {
      'webhook-id': request.headers['webhook-id'] as string,
      'webhook-timestamp': request.headers['webhook-timestamp'] as string,
      'webhook-signature': request.headers['webhook-signature'] as string,
    }) as { id: string; type: string; data: { id: string; amount: number } };
    assert.equal(verified.type, 'transaction.succeeded');
    assert.equal(verified.data.id, t.id);
    assert.equal(verified.data.amount, 250);
    assert.equal(request.headers['webhook-id'], verified.id);
    assert.throws(() =>
      new Webhook('whsec_' + Buffer.alloc(24, 1).toString('base64')).verify(request.body, {
        'webhook-id': request.headers['webhook-id'] as string,
        'webhook-timestamp': request.headers['webhook-timestamp'] as string,
        'webhook-signature': request.headers['webhook-signature'] as string,
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(receiver.at('/signed').length, 1);
    const [delivery] = await deliveries(hook.id);
    assert.equal(delivery.status, 'succeeded');
    assert.equal(delivery.attempts.length, 1);
    assert.equal(delivery.attempts[0].statusCode, 200);
  });

  it('a receiver failing 3 times then succeeding: 4 attempts logged, growing delays, one success', async () => {
    receiver.scripts.set('/flaky', [500, 503, 500, 200]);
    const hook = await endpoint('/flaky', { eventTypes: ['transaction.succeeded'] });
    await api.deposit(await api.account(), 10);
    await waitFor('4 attempts', () => receiver.at('/flaky').length === 4, 20_000);
    const [delivery] = await waitFor('the delivery to succeed', async () => {
      const d = await deliveries(hook.id);
      return d[0]?.status === 'succeeded' ? d : null;
    });
    assert.deepEqual(
      delivery.attempts.map((a: { statusCode: number }) => a.statusCode),
      [500, 503, 500, 200],
    );
    const at = receiver.at('/flaky').map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    assert.ok(gaps[0] >= 150 && gaps[1] > gaps[0] && gaps[2] > gaps[1], `gaps ${gaps.join(', ')}`);
    assert.equal(new Set(receiver.at('/flaky').map((r) => r.headers['webhook-id'])).size, 1);
  });

  it('always failing: the delivery ends failed, in the DLQ with its event', async () => {
    receiver.scripts.set('/down', [500]);
    const hook = await endpoint('/down', { eventTypes: ['transaction.succeeded'] });
    await api.deposit(await api.account(), 10);
    const [delivery] = await waitFor(
      'the delivery to fail',
      async () => {
        const d = await deliveries(hook.id);
        return d[0]?.status === 'failed' ? d : null;
      },
      20_000,
    );
    assert.equal(delivery.attempts.length, 4);
    const dlq = `${stack.prefix}notification.events.dlq`;
    const dead = await waitFor('the DLQ copy', async () =>
      (await probe.drain(dlq)).find((m) => m.properties.headers?.['x-webhook-delivery-id'] === delivery.id),
    );
    assert.equal(JSON.parse(dead.content.toString()).id, delivery.eventId);
    assert.match(String(dead.properties.headers?.['x-error']), /4 attempts failed/);
  });

  it('410 Gone disables the endpoint at once and emails the tenant', async () => {
    receiver.scripts.set('/gone', [410]);
    const hook = await endpoint('/gone', { eventTypes: ['transaction.succeeded'] });
    await api.deposit(await api.account(), 10);
    await waitFor('the endpoint to be disabled', async () => {
      const e = (await api.get(`/v1/webhook-endpoints/${hook.id}`)).body;
      return e.status === 'disabled' && e.disabledReason?.includes('410');
    });
    await waitFor('the email', () => mail.some((m) => m.subject.includes(hook.id)));
    const sent = mail.find((m) => m.subject.includes(hook.id))!;
    assert.equal(sent.to, 'ops@hooks.test');
    assert.match(sent.raw, /text\/html/);
    assert.equal(receiver.at('/gone').length, 1);
  });

  it('the same event delivered twice to the notification app makes one delivery', async () => {
    const hook = await endpoint('/dup', { eventTypes: ['hold.created'] });
    const event = {
      id: `evt_DUPLICATE${Date.now()}`,
      type: 'hold.created',
      tenantId,
      createdAt: new Date().toISOString(),
      data: { id: 'hold_x', accountId: 'acc_x', amount: 1, currency: 'USD', status: 'active' },
    };
    // Twice with the same message id, once with another: the inbox, then (event, endpoint) uniqueness.
    for (const messageId of [event.id, event.id, `${event.id}-again`]) {
      await probe.publishConfirmed(`${stack.prefix}tally.events`, 'hold.created', event, {
        messageId,
        type: 'hold.created',
        contentType: 'application/json',
      });
    }
    await waitFor('the webhook', () => receiver.at('/dup').length === 1);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(receiver.at('/dup').length, 1);
    assert.equal((await deliveries(hook.id)).length, 1);
  });

  it("ordering: an account's later event waits while its earlier one is being retried", async () => {
    receiver.scripts.set('/ordered', [500, 500, 200]);
    const hook = await endpoint('/ordered', { eventTypes: ['transaction.succeeded'] });
    const account = await api.account();
    const first = await api.deposit(account, 1);
    const second = await api.deposit(account, 2);
    await waitFor(
      'both delivered',
      async () => {
        const d = await deliveries(hook.id);
        return d.length === 2 && d.every((x: { status: string }) => x.status === 'succeeded');
      },
      20_000,
    );
    const order = receiver
      .at('/ordered')
      .map((r) => (JSON.parse(r.body) as { data: { id: string } }).data.id);
    assert.deepEqual(order, [first.id, first.id, first.id, second.id]);
  });

  /** An event about `accountId`, numbered `accountSeq` among its events, as a writer would publish it. */
  const accountEvent = (accountId: string, accountSeq: number) => ({
    id: `evt_ORDER${accountId}${accountSeq}`,
    type: 'hold.created',
    tenantId,
    createdAt: new Date().toISOString(),
    accountSeq,
    data: { id: `hold_${accountSeq}`, accountId, amount: accountSeq, currency: 'USD', status: 'active' },
  });
  const publishEvent = (event: { id: string; type: string }) =>
    probe.publishConfirmed(`${stack.prefix}tally.events`, event.type, event, {
      messageId: event.id,
      type: event.type,
      contentType: 'application/json',
    });
  const received = (path: string) =>
    receiver.at(path).map((r) => (JSON.parse(r.body) as { data: { id: string } }).data.id);

  it('ordering: an event that reaches the notification app late is still delivered before the later ones', async () => {
    const hook = await endpoint('/late', { eventTypes: ['hold.created'] });
    const account = `acc_LATE${Date.now()}`;
    // E1 is stalled (a retry in a delay queue, the other relay): E2 and E3 arrive first.
    await publishEvent(accountEvent(account, 2));
    await publishEvent(accountEvent(account, 3));
    await waitFor(
      'E2 and E3 to be recorded as deliveries',
      async () => (await deliveries(hook.id)).length === 2,
    );
    await publishEvent(accountEvent(account, 1));
    await waitFor(
      'all three delivered',
      async () => {
        const d = await deliveries(hook.id);
        return d.length === 3 && d.every((x: { status: string }) => x.status === 'succeeded');
      },
      20_000,
    );
    assert.deepEqual(received('/late'), ['hold_1', 'hold_2', 'hold_3']);
  });

  it('ordering: an earlier event that never arrives holds the later ones back for the wait only, then no more', async () => {
    const hook = await endpoint('/gap', { eventTypes: ['hold.created'] });
    const account = `acc_GAP${Date.now()}`;
    await publishEvent(accountEvent(account, 1));
    await waitFor('E1 delivered', () => received('/gap').length === 1);
    // E2 is lost: E3 waits for it, for WEBHOOK_ORDER_WAIT_MS (5 s here), then goes.
    await publishEvent(accountEvent(account, 3));
    await waitFor('E3 delivered', () => received('/gap').length === 2, 20_000);
    const [e3] = (await deliveries(hook.id)).filter((d: { eventId: string }) =>
      d.eventId.endsWith(`${account}3`),
    );
    assert.ok(
      receiver.at('/gap')[1].at - Date.parse(e3.createdAt) >= 4_500,
      'E3 waited for the missing event first',
    );
    // The next one finds the gap given up: it does not wait again.
    await publishEvent(accountEvent(account, 4));
    await waitFor('E4 delivered', () => received('/gap').length === 3, 20_000);
    const [cursor] = await db.query(
      `SELECT contiguous::int, gap_since FROM webhook_account_cursors WHERE account_id = $1`,
      [account],
    );
    assert.deepEqual(cursor, { contiguous: 4, gap_since: null });
    assert.deepEqual(received('/gap'), ['hold_1', 'hold_3', 'hold_4']);
  });

  it('ordering: a dead delivery releases the ones behind it; another endpoint is never held back', async () => {
    receiver.scripts.set('/dies-first', [500, 500, 500, 500, 200]);
    const stuck = await endpoint('/dies-first', { eventTypes: ['hold.created'] });
    await endpoint('/healthy', { eventTypes: ['hold.created'] });
    const account = `acc_DEAD${Date.now()}`;
    await publishEvent(accountEvent(account, 1));
    await publishEvent(accountEvent(account, 2));
    await waitFor('the healthy endpoint to get both', () => received('/healthy').length === 2);
    assert.deepEqual(received('/healthy'), ['hold_1', 'hold_2']);
    // Meanwhile E2 waits behind E1 at the failing endpoint.
    assert.ok(!received('/dies-first').includes('hold_2'));
    await waitFor(
      'E1 to die and E2 to go',
      async () => {
        const d = await deliveries(stuck.id);
        return d.length === 2 && d.some((x: { status: string }) => x.status === 'succeeded') ? d : null;
      },
      20_000,
    );
    assert.deepEqual(received('/dies-first'), ['hold_1', 'hold_1', 'hold_1', 'hold_1', 'hold_2']);
  });

  it("usage charges: a batch's outcomes travel as one message; each event is its own webhook, in its account's order", async () => {
    const hook = await endpoint('/usage', { eventTypes: ['usage.charged', 'usage.charge_failed'] });
    await api.meter({
      eventType: 'hooked_call',
      aggregation: 'count',
      unitPrice: 10,
      currency: 'USD',
    });
    const [a, b] = [await api.account(), await api.account()];
    await api.deposit(a, 25); // pays for two of its three events
    await api.deposit(b, 100);
    const start = Date.now() - 60_000;
    const events = ['u1', 'u2', 'u3', 'u4', 'u5'].map((tag, i) => ({
      id: `hook-${tag}-${Date.now()}`,
      type: 'hooked_call',
      accountId: i % 2 === 0 ? a : b,
      timestamp: new Date(start + i * 1000).toISOString(),
    }));
    const sent = await api.post('/v1/events', { events });
    assert.equal(sent.status, 202, sent.text);
    assert.equal(sent.body.accepted, 5);
    await waitFor('five usage webhooks', () => receiver.at('/usage').length >= 5, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    const got = receiver.at('/usage').map((r) => {
      const body = JSON.parse(r.body) as {
        id: string;
        type: string;
        data: { eventId: string; accountId: string };
      };
      assert.equal(r.headers['webhook-id'], body.id);
      return { type: body.type, eventId: body.data.eventId, accountId: body.data.accountId };
    });
    assert.equal(got.length, 5, 'each event once');
    const order = (account: string) =>
      got.filter((g) => g.accountId === account).map((g) => [g.type, g.eventId]);
    assert.deepEqual(order(a), [
      ['usage.charged', events[0].id],
      ['usage.charged', events[2].id],
      ['usage.charge_failed', events[4].id],
    ]);
    assert.deepEqual(order(b), [
      ['usage.charged', events[1].id],
      ['usage.charged', events[3].id],
    ]);
    const [{ packed, alone }] = await db.query(
      `SELECT count(*) FILTER (WHERE routing_key = 'usage.outcomes')::int AS packed,
              count(*) FILTER (WHERE routing_key LIKE 'usage.charge%')::int AS alone
         FROM outbox WHERE payload->>'tenantId' = $1`,
      [tenantId],
    );
    assert.deepEqual({ packed, alone }, { packed: 1, alone: 0 });
    assert.equal((await deliveries(hook.id)).length, 5);
  });

  it('ordering: each event about an account is numbered where it is written, in the order written', async () => {
    const account = await api.account();
    await api.deposit(account, 100);
    const hold = await api.post(
      '/v1/holds',
      { accountId: account, amount: 30, currency: 'USD' },
      { 'idempotency-key': `ord-${Date.now()}` },
    );
    assert.equal(hold.status, 201, hold.text);
    const voided = await api.request('POST', `/v1/holds/${hold.body.id}/void`, {
      headers: { 'idempotency-key': `ord-void-${Date.now()}` },
    });
    assert.equal(voided.status, 200, voided.text);
    const refused = await api.transact({
      type: 'withdrawal',
      sourceAccountId: account,
      amount: 500,
      currency: 'USD',
    });
    assert.equal(refused.body.status, 'failed');
    const rows = await db.query(
      `SELECT routing_key AS type, (payload->>'accountSeq')::int AS seq FROM outbox
        WHERE payload->'data'->>'accountId' = $1 OR payload->'data'->>'sourceAccountId' = $1
           OR (payload->'data'->>'sourceAccountId' IS NULL AND payload->'data'->>'destinationAccountId' = $1)
        ORDER BY id`,
      [account],
    );
    assert.deepEqual(rows, [
      { type: 'transaction.succeeded', seq: 1 },
      { type: 'hold.created', seq: 2 },
      { type: 'hold.voided', seq: 3 },
      { type: 'transaction.failed', seq: 4 },
    ]);
    const [{ event_seq }] = await db.query(`SELECT event_seq::int FROM accounts WHERE id = $1`, [account]);
    assert.equal(event_seq, 4);
  });

  it('rotating the secret: for a while both secrets sign', async () => {
    const hook = await endpoint('/rotated', { eventTypes: ['transaction.succeeded'] });
    const rotated = (await api.post(`/v1/webhook-endpoints/${hook.id}/rotate-secret`)).body;
    assert.notEqual(rotated.secret, hook.secret);
    await api.deposit(await api.account(), 3);
    await waitFor('the webhook', () => receiver.at('/rotated').length === 1);
    const [r] = receiver.at('/rotated');
    const signatures = String(r.headers['webhook-signature']).split(' ');
    assert.equal(signatures.length, 2);
    for (const secret of [hook.secret, rotated.secret]) {
      assert.ok(
        new Webhook(secret).verify(r.body, {
          'webhook-id': r.headers['webhook-id'] as string,
          'webhook-timestamp': r.headers['webhook-timestamp'] as string,
          'webhook-signature': r.headers['webhook-signature'] as string,
        }),
      );
    }
  });

  it('a rotation retried under its Idempotency-Key answers the same secret; the old one still signs', async () => {
    const hook = await endpoint('/rotated-twice', { eventTypes: ['transaction.succeeded'] });
    const key = { 'idempotency-key': `rotate-${hook.id}` };
    const rotated = await api.post(`/v1/webhook-endpoints/${hook.id}/rotate-secret`, undefined, key);
    const retried = await api.post(`/v1/webhook-endpoints/${hook.id}/rotate-secret`, undefined, key);
    assert.equal(rotated.status, 200, rotated.text);
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.headers.get('idempotent-replayed'), 'true');
    assert.equal(retried.body.secret, rotated.body.secret, 'one rotation, not two');
    await api.deposit(await api.account(), 3);
    await waitFor('the webhook', () => receiver.at('/rotated-twice').length === 1);
    const [r] = receiver.at('/rotated-twice');
    // Signed with the new secret, and with the one the receiver had before (the overlap).
    for (const secret of [hook.secret, rotated.body.secret]) {
      assert.ok(
        new Webhook(secret).verify(r.body, {
          'webhook-id': r.headers['webhook-id'] as string,
          'webhook-timestamp': r.headers['webhook-timestamp'] as string,
          'webhook-signature': r.headers['webhook-signature'] as string,
        }),
      );
    }
  });

  it('retry one delivery, and recover everything that failed since a time', async () => {
    receiver.scripts.set('/later', [500]);
    const hook = await endpoint('/later', { eventTypes: ['transaction.succeeded'] });
    const since = new Date(Date.now() - 1000).toISOString();
    await api.deposit(await api.account(), 4);
    await api.deposit(await api.account(), 5);
    await waitFor(
      'both to fail',
      async () => {
        const d = await deliveries(hook.id);
        return d.length === 2 && d.every((x: { status: string }) => x.status === 'failed');
      },
      20_000,
    );
    receiver.scripts.set('/later', [200]);
    const [one] = await deliveries(hook.id);
    const retryKey = { 'idempotency-key': `retry-${one.id}` };
    const retried = await api.post(
      `/v1/webhook-endpoints/${hook.id}/deliveries/${one.id}/retry`,
      {},
      retryKey,
    );
    assert.equal(retried.status, 202);
    const retriedAgain = await api.post(
      `/v1/webhook-endpoints/${hook.id}/deliveries/${one.id}/retry`,
      {},
      retryKey,
    );
    assert.equal(retriedAgain.status, 202);
    assert.equal(retriedAgain.headers.get('idempotent-replayed'), 'true', 'the key is honoured');
    await waitFor('the retried one', async () =>
      (await deliveries(hook.id)).some((d: { status: string }) => d.status === 'succeeded'),
    );
    const recoverKey = { 'idempotency-key': `recover-${hook.id}` };
    const recovered = await api.post(`/v1/webhook-endpoints/${hook.id}/recover`, { since }, recoverKey);
    assert.deepEqual(recovered.body, { recovered: 1 });
    const recoveredAgain = await api.post(`/v1/webhook-endpoints/${hook.id}/recover`, { since }, recoverKey);
    assert.deepEqual(recoveredAgain.body, { recovered: 1 });
    assert.equal(recoveredAgain.headers.get('idempotent-replayed'), 'true', 'the key is honoured');
    await waitFor('all delivered', async () =>
      (await deliveries(hook.id)).every((d: { status: string }) => d.status === 'succeeded'),
    );
    assert.equal((await api.post(`/v1/webhook-endpoints/${hook.id}/deliveries/dlv_nope/retry`)).status, 404);
  });

  it('low balance: crossing the threshold sends one email; staying below sends no more', async () => {
    const account = await api.account({ currency: 'USD', lowBalanceThreshold: 500 });
    await api.deposit(account, 1000);
    const before = mail.length;
    const spend = async (amount: number) =>
      waitFinal(
        api,
        (await api.transact({ type: 'withdrawal', sourceAccountId: account, amount, currency: 'USD' })).body
          .id,
      );
    assert.equal((await spend(600)).status, 'succeeded');
    await waitFor(
      'the low-balance email',
      () => mail.slice(before).some((m) => m.raw.includes(account)),
      15_000,
    );
    assert.equal((await spend(100)).status, 'succeeded');
    await new Promise((r) => setTimeout(r, 1500));
    const about = mail.slice(before).filter((m) => m.raw.includes(account));
    assert.equal(about.length, 1);
    assert.match(about[0].subject, /Low balance/);
    assert.equal(about[0].to, 'ops@hooks.test');
  });

  // Last: it replaces the notification app with one that gives up on an endpoint quickly.
  it('an endpoint failing continuously past the threshold is disabled, and the tenant emailed', async () => {
    await stack.apps.get('notification')!.process.stop();
    await stack.startExtra('notification', { WEBHOOK_DISABLE_AFTER_MS: '300' });
    receiver.scripts.set('/sick', [500]);
    const hook = await endpoint('/sick', { eventTypes: ['transaction.succeeded'] });
    await api.deposit(await api.account(), 6);
    await waitFor(
      'the endpoint to be disabled',
      async () => {
        const e = (await api.get(`/v1/webhook-endpoints/${hook.id}`)).body;
        return e.status === 'disabled' && /failing without a success since/.test(e.disabledReason);
      },
      20_000,
    );
    await waitFor('the email', () => mail.some((m) => m.subject.includes(hook.id)));
    const attempts = receiver.at('/sick').length;
    assert.ok(attempts >= 2 && attempts < 4, `${attempts} attempts before it was disabled`);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(receiver.at('/sick').length, attempts, 'a disabled endpoint gets nothing more');
  });

  // After the one above: a notification app that allows no private hosts at all.
  it('at delivery time the address is checked again: a private target is refused, not contacted', async () => {
    for (const extra of stack.extras.splice(0)) await extra.stop();
    await stack.startExtra('notification', { WEBHOOK_ALLOWED_HOSTS: '' });
    // Registered while allowed (the gateway here allows 127.0.0.1); the host is private all the same.
    const hook = await endpoint('/private', { eventTypes: ['transaction.succeeded'] });
    await api.deposit(await api.account(), 7);
    const [delivery] = await waitFor('a refused attempt', async () => {
      const d = await deliveries(hook.id);
      return d[0]?.attempts.length > 0 ? d : null;
    });
    assert.equal(delivery.attempts[0].statusCode, null);
    assert.match(delivery.attempts[0].error, /refused: 127\.0\.0\.1 .*private, loopback or link-local/);
    assert.equal(receiver.at('/private').length, 0);
  });
});
