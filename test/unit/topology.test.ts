import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { Queues, Topology, formatDelay, standardQueues } from '#messaging';

describe('topology names', () => {
  const topology = new Topology({
    prefix: 'test.x.',
    retryDelaysMs: [1000, 10_000, 60_000, 300_000, 300_000],
    deliveryLimit: 5,
    queues: standardQueues,
  });

  it('formats delay tiers readably', () => {
    assert.deepEqual([250, 1000, 10_000, 60_000, 300_000, 3_600_000].map(formatDelay), [
      '250ms',
      '1s',
      '10s',
      '1m',
      '5m',
      '1h',
    ]);
  });

  it('prefixes every exchange and queue, with a DLQ and one delay queue per distinct tier', () => {
    assert.equal(topology.exchange('tally.commands'), 'test.x.tally.commands');
    assert.equal(topology.dlq(Queues.transactionWorker.name), 'test.x.transaction-worker.commands.dlq');
    assert.equal(
      topology.retryQueue(Queues.transactionWorker.name, 10_000),
      'test.x.transaction-worker.commands.retry.10s',
    );
    const names = topology.allQueueNames();
    assert.ok(names.every((n) => n.startsWith('test.x.')));
    // 3 standard queues × (main + dlq + 4 distinct tiers) + the unroutable queue
    assert.equal(names.length, 3 * 6 + 1);
    assert.equal(new Set(names).size, names.length);
  });

  it('command queues dead-letter unknown types; event queues ignore them', () => {
    assert.equal(Queues.transactionWorker.unknownTypes, 'dead-letter');
    assert.equal(Queues.notification.unknownTypes, 'ignore');
    assert.equal(Queues.admin.unknownTypes, 'ignore');
  });
});
