import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { ConsumeMessage } from 'amqplib';
import { DataSource } from 'typeorm';
import { AmqpConnection, Exchanges, MessagePublisher, OutboxRelay, Topology } from '#messaging';
import { Metrics } from '#observability';
import { OutboxStore } from '#persistence';
import {
  BrokerProbe,
  cleanupBroker,
  openDataSource,
  testSettings,
  uniquePrefix,
  waitFor,
} from '#test-support';
import { startFixture, startFixtureReady } from '../../support/fixture-app/fixture-process.js';

/** A topology with one queue, `relay-sink`, taking every `relay.*` event. */
const sinkTopology = (prefix: string) =>
  new Topology({
    prefix,
    retryDelaysMs: [1000],
    deliveryLimit: 5,
    queues: [
      {
        name: 'relay-sink',
        bindings: [{ exchange: Exchanges.events, routingKey: 'relay.#' }],
        unknownTypes: 'ignore',
      },
    ],
  });
const relayOptions = () => ({
  databaseUrl: testSettings().databaseUrl,
  OUTBOX_BATCH_SIZE: 50,
  OUTBOX_POLL_INTERVAL_MS: 100,
});

/** A relay on an AMQP connection and publisher of its own, over the sink topology under a new prefix. */
async function openRelay(
  db: DataSource,
  tag: string,
  publisherFor: (publisher: MessagePublisher) => MessagePublisher = (publisher) => publisher,
) {
  const prefix = uniquePrefix(tag);
  const topology = sinkTopology(prefix);
  const connection = new AmqpConnection(testSettings().amqpUrl, `relay-test-${tag}`);
  const publisher = new MessagePublisher(connection, topology, 10_000);
  await publisher.channel.waitForConnect(); // topology declared
  const relay = new OutboxRelay(db, publisherFor(publisher), new Metrics(`relay-${tag}`), relayOptions());
  const close = async () => {
    await publisher.close();
    await connection.close();
    await cleanupBroker(prefix);
  };
  return { prefix, topology, relay, close };
}

/** The message ids that reach the sink queue under `prefix`, in arrival order (filled as they come). */
async function sinkArrivals(broker: BrokerProbe, prefix: string): Promise<string[]> {
  const received: string[] = [];
  await broker.channel.consume(`${prefix}relay-sink`, (m: ConsumeMessage | null) => {
    if (!m) return;
    received.push(String(m.properties.messageId));
    broker.channel.ack(m);
  });
  return received;
}

describe('outbox relay', () => {
  let db: DataSource;
  let broker: BrokerProbe;

  beforeAll(async () => {
    db = await openDataSource(20);
    broker = await BrokerProbe.open();
  });
  afterAll(async () => {
    await broker.close();
    await db.destroy();
  });

  it('publishes every one of 2,000 rows written by concurrent transactions while three relays run', async () => {
    await db.query('DELETE FROM outbox');
    const prefix = uniquePrefix('relay');
    const topology = sinkTopology(prefix);
    const relays = [1, 2, 3].map((n) => {
      const connection = new AmqpConnection(testSettings().amqpUrl, `relay-test-${n}`);
      const publisher = new MessagePublisher(connection, topology, 10_000);
      const relay = new OutboxRelay(db, publisher, new Metrics(`relay-${n}`), relayOptions());
      return { connection, publisher, relay };
    });
    await relays[0].publisher.channel.waitForConnect(); // topology declared

    const received = new Map<string, number>();
    await broker.channel.consume(`${prefix}relay-sink`, (m: ConsumeMessage | null) => {
      if (!m) return;
      const id = String(m.properties.messageId);
      received.set(id, (received.get(id) ?? 0) + 1);
      broker.channel.ack(m);
    });
    for (const r of relays) r.relay.start();
    try {
      // 40 writers, each committing transactions of 1-10 rows until 2,000 rows exist.
      const outbox = new OutboxStore();
      const written: string[] = [];
      let remaining = 2000;
      await Promise.all(
        Array.from({ length: 40 }, async () => {
          while (remaining > 0) {
            const n = Math.min(remaining, 1 + Math.floor(Math.random() * 10));
            remaining -= n;
            const ids = await db.transaction((m) =>
              outbox.enqueue(
                m,
                Array.from({ length: n }, (_, i) => ({
                  exchange: Exchanges.events,
                  routingKey: 'relay.test',
                  payload: { i },
                })),
              ),
            );
            written.push(...ids);
          }
        }),
      );
      assert.equal(written.length, 2000);

      await waitFor('every written row to arrive', () => written.every((id) => received.has(id)), 60_000);
      // A relay marks its rows after the broker confirmed them, so the marks may trail the deliveries.
      await waitFor('every row to be marked published', async () => {
        const [{ unpublished }] = await db.query(
          `SELECT count(*)::int AS unpublished FROM outbox WHERE published_at IS NULL`,
        );
        return unpublished === 0;
      });
      const [{ rows }] = await db.query(`SELECT count(*)::int AS rows FROM outbox`);
      assert.equal(rows, 2000);
    } finally {
      for (const r of relays) await r.relay.stop();
      for (const r of relays) {
        await r.publisher.close();
        await r.connection.close();
      }
      await cleanupBroker(prefix);
    }
  });

  it('a relay killed between confirm and mark publishes the row again, and the inbox makes the copy a no-op', async () => {
    await db.query('DELETE FROM outbox');
    const prefix = uniquePrefix('relaykill');
    // A consumer-only instance declares the topology and handles messages (no relay of its own).
    const consumer = await startFixtureReady({ prefix, env: { OUTBOX_RELAY_ENABLED: 'false' } });

    const [messageId] = await db.transaction((m) =>
      new OutboxStore().enqueue(m, [
        { exchange: Exchanges.commands, routingKey: 'test.effect', payload: {} },
      ]),
    );

    // A relay that dies right after the broker confirmed the publish, before marking the row.
    const doomed = await startFixture({
      prefix,
      env: { TALLY_FAULTS: 'relay.after-confirm', AMQP_PREFETCH: '1' },
    });
    const exit = await doomed.app.exited;
    assert.equal(exit.signal, 'SIGKILL', 'the relay died at the fault point');
    const [row] = await db.query(`SELECT published_at FROM outbox WHERE message_id = $1`, [messageId]);
    assert.equal(row.published_at, null, 'the mark was rolled back with the crash');

    // A healthy relay publishes it again; the consumer sees two copies and applies one.
    const healthy = await startFixtureReady({ prefix });
    const deliveries = async () =>
      Number(
        (await db.query(`SELECT count(*) FROM test_deliveries WHERE message_id = $1`, [messageId]))[0].count,
      );
    await waitFor('both copies to be delivered', async () => (await deliveries()) >= 2, 30_000);
    await waitFor(
      'the row to be marked published',
      async () =>
        (
          await db.query(`SELECT 1 FROM outbox WHERE message_id = $1 AND published_at IS NOT NULL`, [
            messageId,
          ])
        ).length === 1,
    );
    const [{ effects }] = await db.query(
      `SELECT count(*)::int AS effects FROM test_effects WHERE message_id = $1`,
      [messageId],
    );
    assert.equal(effects, 1);
    await healthy.app.stop();
    await consumer.app.stop();
    await cleanupBroker(prefix);
  });

  it('a relay whose connection the server ends while it publishes fails that batch, lives on, and publishes it again', async () => {
    await db.query('DELETE FROM outbox');
    // The real publisher, but the first time it is handed a batch the relay's connection (idle in
    // its claim transaction) is ended by the server, as a restart does, before the publish.
    let terminate = true;
    const { prefix, relay, close } = await openRelay(db, 'relayterm', (publisher) => {
      const interrupted = Object.create(publisher) as MessagePublisher;
      interrupted.publishAll = async (messages) => {
        if (terminate) {
          terminate = false;
          const ended = await db.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()`,
          );
          assert.equal(ended.length, 1, "the relay's connection");
          await new Promise((r) => setTimeout(r, 200)); // its FATAL reaches the relay between queries
        }
        return publisher.publishAll(messages);
      };
      return interrupted;
    });
    const received = await sinkArrivals(broker, prefix);
    try {
      const [messageId] = await db.transaction((m) =>
        new OutboxStore().enqueue(m, [{ exchange: Exchanges.events, routingKey: 'relay.test', payload: {} }]),
      );
      await assert.rejects(relay.relayOnce(), 'the batch fails: its transaction went with the connection');
      const [row] = await db.query(`SELECT published_at FROM outbox WHERE message_id = $1`, [messageId]);
      assert.equal(row.published_at, null);
      assert.equal(await relay.relayOnce(), 1, 'the next batch claims it again');
      const [again] = await db.query(`SELECT published_at FROM outbox WHERE message_id = $1`, [messageId]);
      assert.notEqual(again.published_at, null);
      await waitFor('both copies to arrive (at least once)', () => received.length === 2);
      assert.deepEqual(received, [messageId, messageId]);
    } finally {
      await close();
    }
  });
  it('a row the broker does not confirm stays unpublished, with the attempt and the error recorded; it goes once the channel is back', async () => {
    await db.query('DELETE FROM outbox');
    const { topology, relay, close } = await openRelay(db, 'relaynack');
    try {
      // The exchange vanishes under the relay: the broker refuses the publish (404, channel closed).
      await broker.channel.deleteExchange(topology.exchange(Exchanges.retry));
      const [messageId] = await db.transaction((m) =>
        new OutboxStore().enqueue(m, [{ exchange: Exchanges.retry, routingKey: 'relay.test', payload: {} }]),
      );
      assert.equal(await relay.relayOnce(), 1);
      const row = async () =>
        (
          await db.query(
            `SELECT published_at, parked_at, publish_attempts, last_error FROM outbox WHERE message_id = $1`,
            [messageId],
          )
        )[0];
      const refused = await row();
      assert.equal(refused.published_at, null, 'not marked published');
      assert.equal(refused.parked_at, null, 'not parked: it may go through later');
      assert.equal(refused.publish_attempts, 1);
      assert.match(refused.last_error, /channel closed|NOT_FOUND|no exchange/i); // the refusal, as the publisher saw it

      // The channel reopens and declares the topology again; the row is claimed and published.
      await waitFor('the row to be published', async () => {
        await relay.relayOnce().catch(() => 0);
        return (await row()).published_at !== null;
      });
      assert.equal((await row()).publish_attempts, 2);
    } finally {
      await close();
    }
  });

  it('a row for an exchange outside the topology is parked, and the rows behind it go', async () => {
    await db.query('DELETE FROM outbox');
    const { prefix, relay, close } = await openRelay(db, 'relaypark');
    const received = await sinkArrivals(broker, prefix);
    try {
      // Sent, the broker would close the channel and fail every publish in flight with it, each time.
      const [poison] = await db.transaction((m) =>
        new OutboxStore().enqueue(m, [{ exchange: 'tally.nowhere', routingKey: 'relay.test', payload: {} }]),
      );
      const behind = await db.transaction((m) =>
        new OutboxStore().enqueue(
          m,
          [1, 2, 3].map(() => ({ exchange: Exchanges.events, routingKey: 'relay.test', payload: {} })),
        ),
      );
      assert.equal(await relay.relayOnce(), 4);
      const rows: { message_id: string; published: boolean; parked: boolean; last_error: string | null }[] =
        await db.query(
          `SELECT message_id, published_at IS NOT NULL AS published, parked_at IS NOT NULL AS parked, last_error
             FROM outbox ORDER BY id`,
        );
      assert.deepEqual(
        rows.map((r) => [r.message_id, r.published, r.parked]),
        [[poison, false, true], ...behind.map((id) => [id, true, false])],
      );
      assert.match(rows[0].last_error!, /exchange "tally.nowhere" is not part of the topology/);
      await waitFor('the rows behind it to arrive', () => received.length === 3);
      assert.deepEqual(received.sort(), [...behind].sort());
      assert.equal(await relay.relayOnce(), 0, 'a parked row is not claimed again');
    } finally {
      await db.query(`DELETE FROM outbox WHERE exchange = 'tally.nowhere'`);
      await close();
    }
  });
});
