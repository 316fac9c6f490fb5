import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Exchanges, Headers } from '#messaging';
import {
  BrokerProbe,
  cleanupBroker,
  openDataSource,
  uniquePrefix,
  waitFor,
  type AppProcess,
} from '#test-support';
import { startFixtureReady } from '../../support/fixture-app/fixture-process.js';
import { DataSource } from 'typeorm';

// Real RabbitMQ, real Postgres, the real transport in a child process (fixture app).
// Fixture settings: retry delays 200 ms then 600 ms, 3 attempts in all, delivery limit 2.
describe('consumer: ack, retry tiers, dead-lettering, inbox', () => {
  const prefix = uniquePrefix('retry');
  const queue = `${prefix}fixture.commands`;
  let fixture: { app: AppProcess; url: string };
  let db: DataSource;
  let broker: BrokerProbe;

  const enqueue = async (type: string, payload: object = {}) => {
    const res = await fetch(`${fixture.url}/fixture/enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type, payload }),
    });
    assert.equal(res.status, 201);
    return ((await res.json()) as { messageIds: string[] }).messageIds[0];
  };
  const deliveries = (messageId: string) =>
    db.query<{ attempt: number; at: Date }[]>(
      `SELECT attempt, at FROM test_deliveries WHERE message_id = $1 ORDER BY at`,
      [messageId],
    );
  const effects = async (messageId: string) =>
    Number((await db.query(`SELECT count(*) FROM test_effects WHERE message_id = $1`, [messageId]))[0].count);
  const dlq = async (messageId: string) => {
    const found = await waitFor(`${messageId} in the DLQ`, async () =>
      (await broker.drain(`${queue}.dlq`)).find((m) => m.properties.messageId === messageId),
    );
    return found;
  };

  beforeAll(async () => {
    db = await openDataSource(2);
    broker = await BrokerProbe.open();
    fixture = await startFixtureReady({ prefix });
  });

  afterAll(async () => {
    const stopped = await fixture.app.stop();
    assert.equal(stopped.code, 0, 'the fixture shuts down cleanly on SIGTERM');
    // Nothing left unacked or waiting: every message above was settled exactly once.
    assert.equal(await broker.depth(queue), 0);
    await broker.close();
    await db.destroy();
    await cleanupBroker(prefix);
  });

  it('a handler failing transiently twice then succeeding is delivered three times, with growing delays, and acked once', async () => {
    const id = await enqueue('test.flaky', { failTimes: 2 });
    await waitFor('the effect of the flaky message', async () => (await effects(id)) === 1);
    const rows = await deliveries(id);
    assert.deepEqual(
      rows.map((r) => r.attempt),
      [1, 2, 3],
    );
    const gap1 = rows[1].at.getTime() - rows[0].at.getTime();
    const gap2 = rows[2].at.getTime() - rows[1].at.getTime();
    assert.ok(gap1 >= 190, `first retry waited the first tier (200 ms), got ${gap1} ms`);
    assert.ok(gap2 >= 590, `second retry waited the second tier (600 ms), got ${gap2} ms`);
    assert.ok(gap2 > gap1, 'delays grow');
    // Acked once: no further delivery comes, and nothing went to the DLQ.
    await new Promise((r) => setTimeout(r, 800));
    assert.equal((await deliveries(id)).length, 3);
    assert.equal(await effects(id), 1);
    assert.equal(await broker.depth(`${queue}.dlq`), 0);
  });

  it('a permanent error goes straight to the DLQ with the error recorded', async () => {
    const id = await enqueue('test.permanent');
    const dead = await dlq(id);
    const headers = dead.properties.headers ?? {};
    assert.equal(headers[Headers.errorCode], 'test_permanent');
    assert.equal(headers[Headers.error], 'this message can never succeed');
    assert.equal(headers[Headers.errorPermanent], true);
    assert.equal(headers[Headers.failedQueue], 'fixture.commands');
    assert.equal(headers[Headers.originalRoutingKey], 'test.permanent');
    assert.equal(dead.properties.type, 'test.permanent');
    assert.equal((await deliveries(id)).length, 1, 'never retried');
  });

  it('a message that keeps failing transiently is dead-lettered when attempts run out', async () => {
    const id = await enqueue('test.fail');
    const dead = await dlq(id);
    const headers = dead.properties.headers ?? {};
    assert.equal(headers[Headers.errorCode], 'attempts_exhausted');
    assert.equal(headers[Headers.errorPermanent], false);
    assert.equal(headers[Headers.attempt], 3);
    assert.equal(headers[Headers.error], 'still broken');
    assert.deepEqual(
      (await deliveries(id)).map((r) => r.attempt),
      [1, 2, 3],
    );
  });

  it('a message type nobody handles on a command queue is dead-lettered, not dropped', async () => {
    const id = await enqueue('test.unknown-type');
    const dead = await dlq(id);
    assert.equal(dead.properties.headers?.[Headers.errorCode], 'no_handler');
  });

  it('the same message delivered three times has one effect', async () => {
    const messageId = `msg_dup_${Date.now()}`;
    for (let i = 0; i < 3; i++) {
      broker.channel.publish(`${prefix}${Exchanges.commands}`, 'test.effect', Buffer.from('{}'), {
        messageId,
        type: 'test.effect',
        persistent: true,
      });
    }
    await waitFor('three deliveries', async () => (await deliveries(messageId)).length === 3);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await effects(messageId), 1);
    const metrics = await (await fetch(`${fixture.url}/metrics`)).text();
    assert.match(
      metrics,
      /tally_messages_consumed_total\{queue="fixture.commands",type="test.effect",outcome="duplicate",app="fixture"\} 2/,
    );
  });
});
