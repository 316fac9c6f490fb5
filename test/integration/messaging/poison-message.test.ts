import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Exchanges } from '#messaging';
import { BrokerProbe, cleanupBroker, openDataSource, uniquePrefix, waitFor } from '#test-support';
import { DataSource } from 'typeorm';
import { startFixture } from '../../support/fixture-app/fixture-process.js';

describe('consumer: a message that kills its process', () => {
  const prefix = uniquePrefix('poison');
  const queue = `${prefix}fixture.commands`;
  let db: DataSource;
  let broker: BrokerProbe;

  beforeAll(async () => {
    db = await openDataSource(2);
    broker = await BrokerProbe.open();
  });
  afterAll(async () => {
    await broker.close();
    await db.destroy();
    await cleanupBroker(prefix);
  });

  it('is dead-lettered by the delivery limit while every other message is processed once', async () => {
    // The first start declares the topology; then 10 good, the poison, 10 good.
    const publish = (type: string, messageId: string) =>
      broker.channel.publish(`${prefix}${Exchanges.commands}`, type, Buffer.from('{}'), {
        messageId,
        type,
        persistent: true,
      });
    const env = { AMQP_PREFETCH: '1' };
    let run = await startFixture({ prefix, env });
    await run.app.waitForHttp(`${run.url}/health/ready`);
    const good = Array.from({ length: 20 }, (_, i) => `msg_good_${i}_${Date.now()}`);
    const poison = `msg_poison_${Date.now()}`;
    good.slice(0, 10).forEach((id) => publish('test.effect', id));
    publish('test.crash', poison);
    good.slice(10).forEach((id) => publish('test.effect', id));

    // Supervise like an orchestrator would: restart the consumer whenever it dies.
    let crashes = 0;
    for (;;) {
      const state = await waitFor(
        'the consumer to finish the good messages or die',
        async () => {
          if (run.app.exit) return 'died';
          const [{ count }] = await db.query(`SELECT count(*) FROM test_effects WHERE message_id = ANY($1)`, [
            good,
          ]);
          return Number(count) === 20 ? 'done' : false;
        },
        60_000,
      );
      if (state === 'done') break;
      assert.equal(run.app.exit?.signal, 'SIGKILL');
      crashes++;
      assert.ok(crashes <= 5, 'the poison message stops crashing the consumer');
      run = await startFixture({ prefix, env });
    }
    await run.app.stop();

    // Delivery limit 2: delivered three times (three crashes), then parked in the DLQ.
    assert.equal(crashes, 3);
    const dead = await waitFor('the poison message in the DLQ', async () =>
      (await broker.drain(`${queue}.dlq`)).find((m) => m.properties.messageId === poison),
    );
    const death = (dead.properties.headers?.['x-death'] as { reason: string }[])[0];
    assert.equal(death.reason, 'delivery_limit');
    const perMessage: { message_id: string; n: string }[] = await db.query(
      `SELECT message_id, count(*) AS n FROM test_effects WHERE message_id = ANY($1) GROUP BY message_id`,
      [good],
    );
    assert.equal(perMessage.length, 20);
    assert.ok(
      perMessage.every((r) => Number(r.n) === 1),
      'each good message had exactly one effect',
    );
    assert.equal(await broker.depth(queue), 0);
  });
});
