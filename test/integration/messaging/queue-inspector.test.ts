import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, it } from '@jest/globals';
import { AmqpConnection, QueueInspector, Topology, type TopologyOptions } from '#messaging';
import { BrokerProbe, TcpProxy, cleanupBroker, testSettings, uniquePrefix, waitFor } from '#test-support';
import { QueueDepths } from '../../../apps/admin/src/metrics/queue-depths.js';
import { rabbitmqctl } from '../../support/broker-cleanup.js';

// Passive declares against the real broker: a queue it does not have answers null without taking
// the connection down, and the admin's depth passes are shared and bounded. (Before QueueInspector,
// the 404 of a queue not declared yet ended the whole connection: the admin's sampler, asking every
// second while the topology was still being declared, kept cutting that declaration short.)

/** How many channels the broker has open on the connection named `name` (null: no such connection). */
async function brokerChannels(name: string): Promise<number | null> {
  const listed = await rabbitmqctl('list_connections', 'client_properties', 'channels');
  const line = listed.split('\n').find((l) => l.includes(`{"connection_name","${name}"}`));
  return line === undefined ? null : Number(line.trim().split('\t').pop());
}

/** A stallable TCP proxy in front of the broker (start it, then connect to `proxy.via(amqpUrl)`). */
const amqpProxy = () => new TcpProxy(Number(new URL(testSettings().amqpUrl).port || 5672));

describe('queue inspector and the admin queue depths', () => {
  const prefix = uniquePrefix('inspect');
  const present = `${prefix}present`;
  let broker: BrokerProbe;
  const opened: AmqpConnection[] = [];
  const connect = (url = testSettings().amqpUrl) => {
    const connection = new AmqpConnection(url, 'queue-inspector-test');
    opened.push(connection);
    return connection;
  };
  /** Two queues, of which the broker has only `present` (and its DLQ), holding 2 messages. */
  const topologyOptions: TopologyOptions = {
    prefix,
    retryDelaysMs: [1000],
    deliveryLimit: 5,
    queues: [
      { name: 'missing', bindings: [], unknownTypes: 'ignore' },
      { name: 'present', bindings: [], unknownTypes: 'ignore' },
    ],
  };
  const topology = new Topology(topologyOptions);

  beforeAll(async () => {
    broker = await BrokerProbe.open();
    await broker.channel.assertQueue(present, { durable: false });
    await broker.channel.assertQueue(`${present}.dlq`, { durable: false });
    for (const body of ['one', 'two']) broker.channel.sendToQueue(present, Buffer.from(body));
    // Both in the queue before any test asks (a plain publish is only queued on the socket).
    for (;;) if ((await broker.depth(present)) === 2) break;
  });
  afterEach(async () => {
    for (const c of opened.splice(0)) await c.close();
  });
  afterAll(async () => {
    await broker.close();
    await cleanupBroker(prefix);
  });

  it('a queue the broker does not have is null, and only the inspector channel closes', async () => {
    const connection = connect();
    let disconnects = 0;
    connection.manager.on('disconnect', () => disconnects++);
    const other = connection.manager.createChannel({ name: 'other', confirm: false });
    await other.waitForConnect();
    const inspector = new QueueInspector(connection, 'inspect');

    assert.equal(await inspector.check(`${prefix}missing`), null);
    // The other channel of the connection still answers: the 404 did not end the connection.
    assert.equal((await other.checkQueue(present)).messageCount, 2);
    // And the next question is asked on a fresh channel.
    assert.deepEqual(await inspector.check(present), { messageCount: 2, consumerCount: 0 });
    assert.equal(disconnects, 0);
    await other.close();
    await inspector.close();
  });

  it('answers every queue the broker has, after one it does not; callers at once share one pass', async () => {
    const depths = new QueueDepths(connect(), topology);
    const first = depths.all();
    assert.equal(depths.all(), first, 'a second caller joins the pass under way');
    assert.deepEqual(await first, [
      { queue: 'missing', messages: null, consumers: null },
      { queue: 'missing.dlq', messages: null, consumers: null },
      { queue: 'present', messages: 2, consumers: 0 },
      { queue: 'present.dlq', messages: 0, consumers: 0 },
    ]);
    const next = depths.all();
    assert.notEqual(next, first, 'a pass that ended is not handed out again');
    await next;
    await depths.onModuleDestroy();
  });

  it('a broker that goes silent ends the pass with nulls in time; the next pass asks afresh', async () => {
    const proxy = amqpProxy();
    await proxy.start();
    const connection = new AmqpConnection(proxy.via(testSettings().amqpUrl), 'queue-inspector-test');
    const depths = new QueueDepths(connection, topology);
    try {
      assert.equal((await depths.all()).find((d) => d.queue === 'present')?.messages, 2);
      proxy.stall();
      depths.waitMs = 300;
      const silent = await depths.all();
      assert.ok(
        silent.every((d) => d.messages === null && d.consumers === null),
        JSON.stringify(silent),
      );
      proxy.restore();
      depths.waitMs = 5000;
      assert.equal((await depths.all()).find((d) => d.queue === 'present')?.messages, 2);
    } finally {
      await depths.onModuleDestroy();
      await connection.close();
      await proxy.close();
    }
  });

  it('a channel given up while it was still opening is closed once it opens, not left on the broker', async () => {
    const proxy = amqpProxy();
    await proxy.start();
    const name = `queue-inspector-${randomBytes(3).toString('hex')}`;
    const connection = new AmqpConnection(proxy.via(testSettings().amqpUrl), name);
    // Only queues the broker has: a 404 would close the given-up channel by itself.
    const onlyPresent = new Topology({ ...topologyOptions, queues: topologyOptions.queues.slice(1) });
    const depths = new QueueDepths(connection, onlyPresent);
    try {
      await waitFor('the connection', () => connection.isConnected());
      assert.equal(await brokerChannels(name), 0);
      // The pass's first question opens the inspector's channel: the broker never hears of it.
      proxy.stall();
      depths.waitMs = 300;
      assert.ok((await depths.all()).every((d) => d.messages === null));
      // Now the held channel.open goes through, and the broker opens the channel given up on. The
      // next pass asks on a channel of its own; the broker takes a connection's frames in order,
      // so by its answer the first channel is open, and then closed again: one channel, not two.
      proxy.restore();
      depths.waitMs = 5000;
      assert.equal((await depths.all()).find((d) => d.queue === 'present')?.messages, 2);
      await waitFor('only the new pass channel open', async () => (await brokerChannels(name)) === 1);
    } finally {
      await depths.onModuleDestroy();
      await connection.close();
      await proxy.close();
    }
  });
});
