import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { ConsumeMessage } from 'amqplib';
import { DataSource } from 'typeorm';
import { AmqpContext } from '#messaging';
import { InboxStore, OutboxSignal } from '#persistence';
import { openDataSource } from '#test-support';
import type { ApplyTransactions } from '../../../apps/transaction-worker/src/apply-transaction/apply-transactions.use-case.js';
import { TransactionBatcher } from '../../../apps/transaction-worker/src/apply-transaction/transaction-batcher.js';

const contextFor = (messageId: string) =>
  new AmqpContext({ properties: { messageId, headers: {} }, fields: {} } as unknown as ConsumeMessage, 'q');

// Real Postgres (the inbox); the ledger side is replaced by a recorder, as only the batching is under test.
describe('transaction batcher: duplicates whatever the batching', () => {
  let db: DataSource;
  const applied: string[][] = [];
  let batcher: TransactionBatcher;

  beforeAll(async () => {
    db = await openDataSource(2);
    const apply = {
      execute: async (_manager: unknown, ids: string[]) => {
        applied.push(ids);
        return ids.map((transactionId) => ({ transactionId, status: 'succeeded' as const }));
      },
    } as unknown as ApplyTransactions;
    batcher = new TransactionBatcher(db, new InboxStore(), apply, new OutboxSignal(db), {
      maxSize: 10,
      maxConcurrent: 1,
    });
  });
  afterAll(() => db.destroy());

  it('two copies of one message in the same batch: applied once, the second counted as a duplicate', async () => {
    const messageId = `dup-${randomBytes(4).toString('hex')}`;
    const first = contextFor(messageId);
    const second = contextFor(messageId);
    const other = contextFor(`${messageId}-other`);
    // Submitted in one tick: one batch.
    await Promise.all([
      batcher.submit(first, 'txn_a'),
      batcher.submit(second, 'txn_a'),
      batcher.submit(other, 'txn_b'),
    ]);
    assert.deepEqual(applied, [['txn_a', 'txn_b']]);
    assert.equal(first.isDuplicate, false);
    assert.equal(second.isDuplicate, true);
    assert.equal(other.isDuplicate, false);

    // The same copy again, in a batch of its own: a duplicate too (as before).
    const third = contextFor(messageId);
    await batcher.submit(third, 'txn_a');
    assert.equal(third.isDuplicate, true);
    assert.equal(applied.length, 1);
  });
});
