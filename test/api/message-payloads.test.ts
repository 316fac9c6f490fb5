import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { GetMessage } from 'amqplib';
import { DataSource } from 'typeorm';
import { Exchanges, Headers, Queues } from '#messaging';
import { Api, BrokerProbe, openDataSource, waitFinal, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

/**
 * Payloads are checked by the consumers' message classes before any handler runs: one that does
 * not fit (a field of the wrong type) is a poison message, dead-lettered at once with the
 * consumer's code, and nothing of it is applied.
 */
describe('message payloads validated at the consumer', () => {
  let stack: InProcessStack;
  let broker: BrokerProbe;
  let db: DataSource;
  let api: Api;
  let tenantId: string;
  const drained = new Map<string, GetMessage>();
  const queue = (name: string) => `${stack.prefix}${name}`;

  beforeAll(async () => {
    // The worker starts later: a transaction can then wait, pending, with no command for it.
    stack = await InProcessStack.start('payloads', ['gateway', 'notification']);
    broker = await BrokerProbe.open();
    db = await openDataSource(1);
    const tenant = await newTenant('payloads');
    tenantId = tenant.tenantId;
    api = new Api(stack.url('gateway'), tenant.apiKey);
  });
  afterAll(async () => {
    await broker?.close();
    await db?.destroy();
    await stack?.stop();
  });

  const messageId = () => `msg_payload_${randomBytes(6).toString('hex')}`;
  const publish = (exchange: string, type: string, body: object, id: string) =>
    broker.publishConfirmed(`${stack.prefix}${exchange}`, type, body, { messageId: id, type });
  /** The dead letter of `id` in `dlq` (other dead letters drained meanwhile are kept). */
  const deadLetter = (dlq: string, id: string) =>
    waitFor(`${id} in ${dlq}`, async () => {
      for (const m of await broker.drain(dlq)) drained.set(String(m.properties.messageId), m);
      return drained.get(id);
    });
  const inboxed = async (id: string) =>
    Number((await db.query(`SELECT count(*) FROM inbox WHERE message_id = $1`, [id]))[0].count);

  it('transaction.requested with a tenantId that is not a string: dead-lettered, the transaction stays pending', async () => {
    const account = await api.account();
    const accepted = await api.post(
      '/v1/transactions',
      { type: 'deposit', destinationAccountId: account, amount: 500, currency: 'USD' },
      { 'idempotency-key': `payload-${randomBytes(4).toString('hex')}` },
    );
    assert.equal(accepted.status, 202);
    const id = accepted.body.id as string;
    // Take the gateway's own command out of the queue: only the malformed one will reach the worker.
    await waitFor('the command of the transaction in the queue', async () => {
      const taken = await broker.drain(queue(Queues.transactionWorker.name));
      return taken.some((m) => JSON.parse(m.content.toString()).transactionId === id);
    });

    const bad = messageId();
    await publish(Exchanges.commands, 'transaction.requested', { transactionId: id, tenantId: 42 }, bad);
    await stack.startApp('transaction-worker');
    const dead = await deadLetter(`${queue(Queues.transactionWorker.name)}.dlq`, bad);
    const headers = dead.properties.headers ?? {};
    assert.equal(headers[Headers.errorCode], 'malformed_command');
    assert.equal(headers[Headers.errorPermanent], true);
    assert.equal(headers[Headers.attempt], 1, 'dead-lettered at once, not retried');
    assert.match(String(headers[Headers.error]), /tenantId must be a string/);
    assert.equal((await api.get(`/v1/transactions/${id}`)).body.status, 'pending', 'nothing applied');

    // The same command, well formed, is applied: the refusal was the payload's.
    await publish(Exchanges.commands, 'transaction.requested', { transactionId: id, tenantId }, messageId());
    assert.equal((await waitFinal(api, id)).status, 'succeeded');
  });

  it('usage.recorded with event ids that are not strings: dead-lettered at once', async () => {
    const bad = messageId();
    await publish(Exchanges.commands, 'usage.recorded', { tenantId, eventIds: [1, 2] }, bad);
    const dead = await deadLetter(`${queue(Queues.transactionWorker.name)}.dlq`, bad);
    assert.equal(dead.properties.headers?.[Headers.errorCode], 'malformed_command');
    assert.match(String(dead.properties.headers?.[Headers.error]), /each value in eventIds must be a string/);
    assert.equal(await inboxed(bad), 0, 'nothing applied');
  });

  it('an event whose createdAt is a number: dead-lettered by the notification app, not recorded', async () => {
    const event = (createdAt: unknown) => ({
      id: `evt_${randomBytes(6).toString('hex')}`,
      type: 'transaction.succeeded',
      tenantId,
      createdAt,
      data: { id: 'txn_x', status: 'succeeded' },
    });
    const bad = messageId();
    await publish(Exchanges.events, 'transaction.succeeded', event(1_700_000_000), bad);
    const dead = await deadLetter(`${queue(Queues.notification.name)}.dlq`, bad);
    assert.equal(dead.properties.headers?.[Headers.errorCode], 'malformed_event');
    assert.equal(dead.properties.headers?.[Headers.attempt], 1);
    assert.equal(await inboxed(bad), 0, 'nothing applied');

    const good = messageId();
    await publish(Exchanges.events, 'transaction.succeeded', event(new Date().toISOString()), good);
    await waitFor('the well-formed event recorded in the inbox', async () => (await inboxed(good)) === 1);
  });
});
