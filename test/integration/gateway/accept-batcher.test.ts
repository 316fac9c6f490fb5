import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { newId } from '#domain';
import {
  AccountRepository,
  TransactionRepository,
  isDataException,
  isDatabaseUnavailable,
  poolOf,
  type AcceptRequest,
  type AcceptResult,
} from '#persistence';
import { TcpProxy, openDataSource, testSettings, waitFor } from '#test-support';
import { AcceptBatcher } from '../../../apps/gateway/src/transactions/create-transaction/accept-batcher.js';

/** The real repository, with the size of each statement it is asked to write recorded. */
class CountedRepository extends TransactionRepository {
  readonly statements: number[] = [];
  override acceptMany(dataSource: DataSource, requests: AcceptRequest[]): Promise<AcceptResult[]> {
    this.statements.push(requests.length);
    return super.acceptMany(dataSource, requests);
  }
}

describe('group commit of accepts (AcceptBatcher) against the database', () => {
  const tenantId = newId('ten');
  let owner: DataSource;
  let account: string;

  beforeAll(async () => {
    owner = await openDataSource(2);
    await owner.query(`INSERT INTO tenants (id, name) VALUES ($1, 'batcher')`, [tenantId]);
    account = (
      await new AccountRepository().create(owner.manager, {
        tenantId,
        currency: 'USD',
        externalRef: null,
        metadata: {},
        lowBalanceThreshold: null,
      })
    ).id;
  });
  afterAll(() => owner?.destroy());

  const deposit = (key: string, description: string | null = null): AcceptRequest => {
    const id = newId('txn');
    return {
      transaction: {
        id,
        tenantId,
        type: 'deposit',
        status: 'pending',
        amount: 5n,
        currency: 'USD',
        sourceAccountId: null,
        destinationAccountId: account,
        parentTransactionId: null,
        holdId: null,
        description,
        metadata: {},
        correlationId: null,
        createdAt: new Date(),
      },
      command: {
        exchange: 'tally.commands',
        routingKey: 'transaction.requested',
        payload: { transactionId: id, tenantId },
      },
      guard: { key, fingerprint: 'f', response: { status: 202, body: '{}', headers: {} } },
    };
  };

  /** One request written alone (the slot was free), then `batch` queued behind it: one statement. */
  const acceptBehindOne = (batcher: AcceptBatcher, batch: AcceptRequest[]) => {
    const first = batcher.accept(deposit(`first-${randomBytes(4).toString('hex')}`));
    const rest = batch.map((r) => batcher.accept(r));
    return Promise.allSettled([first, ...rest]).then((settled) => settled.slice(1));
  };

  it('a request the database refuses fails alone, found by halving the batch, not one by one', async () => {
    const app = await openDataSource(2, testSettings().databaseUrl);
    try {
      const repository = new CountedRepository();
      const batcher = new AcceptBatcher(app, repository, { maxBatch: 64, inFlight: 1 });
      const poisoned = 11;
      // Validation refuses a NUL since; the batcher must still survive a value Postgres refuses.
      const batch = Array.from({ length: 16 }, (_, i) =>
        deposit(`halves-${i}`, i === poisoned ? 'nul\u0000here' : null),
      );
      const settled = await acceptBehindOne(batcher, batch);

      const refused = settled[poisoned];
      assert.equal(refused.status, 'rejected');
      assert.ok(isDataException((refused as PromiseRejectedResult).reason));
      settled.forEach((s, i) => {
        if (i === poisoned) return;
        assert.equal(s.status, 'fulfilled', `request ${i}`);
        assert.equal((s as PromiseFulfilledResult<AcceptResult>).value.inserted, true, `request ${i}`);
      });
      const written: { id: string }[] = await owner.query(
        `SELECT id FROM transactions WHERE id = ANY($1::text[])`,
        [batch.map((r) => r.transaction.id)],
      );
      assert.deepEqual(
        written.map((r) => r.id).sort(),
        batch
          .filter((_, i) => i !== poisoned)
          .map((r) => r.transaction.id)
          .sort(),
      );
      // The first alone, the batch of 16, then halves down to the refused one: at most
      // 2·log2(16) more statements (one by one, it took 16).
      assert.deepEqual(repository.statements.slice(0, 2), [1, 16]);
      assert.ok(repository.statements.length - 2 <= 2 * Math.log2(16), `${repository.statements}`);
    } finally {
      await app.destroy();
    }
  });

  it('when the database cannot be reached, the whole batch fails at once, not split', async () => {
    const proxy = new TcpProxy(Number(new URL(testSettings().databaseUrl).port || 5432));
    const url = new URL(testSettings().databaseUrl);
    url.port = String(await proxy.start());
    const app = await openDataSource(2, url.toString());
    try {
      const repository = new CountedRepository();
      const batcher = new AcceptBatcher(app, repository, { maxBatch: 64, inFlight: 1 });
      proxy.cut();
      await waitFor('the pool to drop its cut connection', () => poolOf(app).totalCount === 0);
      const settled = await acceptBehindOne(
        batcher,
        Array.from({ length: 8 }, (_, i) => deposit(`cut-${i}`)),
      );
      assert.ok(
        settled.every((s) => s.status === 'rejected' && isDatabaseUnavailable(s.reason)),
        JSON.stringify(settled.map((s) => (s.status === 'rejected' ? String(s.reason) : s.status))),
      );
      assert.deepEqual(repository.statements, [1, 8]);
    } finally {
      await app.destroy().catch(() => undefined);
      await proxy.close();
    }
  });
});
