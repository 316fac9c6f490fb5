import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Api, Receiver, Stack, createTenant, openDataSource, signedInOperator, waitFor } from '#test-support';

/**
 * A webhook delivery that dies is collected as a dead letter, with its origin and tenant, and an
 * operator's replay through the admin API sends that delivery again.
 */
describe('webhook dead letters: collected, replayed by an operator, delivered', () => {
  let stack: Stack;
  let api: Api;
  let tenantId: string;
  let db: DataSource;
  let token: string;
  const receiver = new Receiver();

  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(stack.url('admin') + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  };
  const delivery = async (endpointId: string) =>
    (await api.get(`/v1/webhook-endpoints/${endpointId}/deliveries`)).body.data[0];

  beforeAll(async () => {
    await receiver.start();
    stack = await Stack.start('hookdl', ['gateway', 'transaction-worker', 'notification', 'admin'], {
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_RETRY_SCHEDULE_MS: '100,100',
      WEBHOOK_DISPATCH_INTERVAL_MS: '50',
      WEBHOOK_DISABLE_AFTER_MS: '600000',
      ADMIN_JWT_SECRET: 'w'.repeat(40),
    });
    const tenant = await createTenant('Hook dead letters');
    tenantId = tenant.tenantId;
    api = new Api(stack.url('gateway'), tenant.apiKey);
    db = await openDataSource(2);
    token = await signedInOperator(stack.url('admin'), 'operator');
  });
  afterAll(async () => {
    await db?.destroy();
    await stack.stop();
    await receiver.stop();
  });

  it('a delivery that died is re-sent by replaying its dead letter, and reaches a receiver now answering 2xx', async () => {
    receiver.scripts.set('/recovering', [500]);
    const hook = await api.post('/v1/webhook-endpoints', {
      url: receiver.url('/recovering'),
      eventTypes: ['transaction.succeeded'],
    });
    assert.equal(hook.status, 201, hook.text);
    const t = await api.deposit(await api.account(), 42);
    const dead = await waitFor(
      'the delivery to die',
      async () => {
        const d = await delivery(hook.body.id);
        return d?.status === 'failed' ? d : null;
      },
      20_000,
    );
    assert.equal(receiver.at('/recovering').length, 3);

    const letter = await waitFor('the dead letter to be collected', async () => {
      const res = await admin(
        'GET',
        `/admin/api/dead-letters?tenantId=${tenantId}&errorCode=webhook_delivery_failed`,
      );
      return res.body.data.find((l: { messageId: string }) => l.messageId === dead.id);
    });
    // It says where it came from and whose it is.
    assert.equal(letter.tenantId, tenantId);
    assert.equal(letter.exchange, `${stack.prefix}tally.events`);
    assert.equal(letter.routingKey, 'transaction.succeeded');

    receiver.scripts.set('/recovering', [204]);
    const replay = await admin('POST', `/admin/api/dead-letters/${letter.id}/replay`, {
      reason: 'the receiver is fixed',
    });
    assert.equal(replay.status, 202, replay.text);

    const sent = await waitFor(
      'the delivery to succeed',
      async () => {
        const d = await delivery(hook.body.id);
        return d?.status === 'succeeded' ? d : null;
      },
      20_000,
    );
    assert.equal(sent.id, dead.id);
    const received = receiver.at('/recovering');
    assert.equal(received.length, 4);
    assert.equal(JSON.parse(received[3].body).data.id, t.id);
    assert.equal((await admin('GET', `/admin/api/dead-letters/${letter.id}`)).body.status, 'replayed');
    // Not dead-lettered again.
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM dead_letters WHERE headers->>'x-webhook-delivery-id' = $1`,
      [dead.id],
    );
    assert.equal(n, 1);
    const [audit] = await db.query(
      `SELECT action, reason FROM audit_log WHERE target_type = 'dead_letter' AND target_id = $1`,
      [letter.id],
    );
    assert.deepEqual(audit, { action: 'dead_letter.replay', reason: 'the receiver is fixed' });
  });
});
