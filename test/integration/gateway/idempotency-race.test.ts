import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource, EntityManager } from 'typeorm';
import { newId, stringifyJson, transactionView } from '#domain';
import {
  AccountRepository,
  HoldRepository,
  IdempotencyStore,
  OutboxSignal,
  OutboxStore,
  SecretBox,
  TransactionRepository,
  dropDatabase,
  migrateDatabase,
} from '#persistence';
import { Ledger, LedgerStore, SystemAccounts } from '#ledger';
import { openDataSource, separateDatabase } from '#test-support';
import { HoldsService } from '../../../apps/gateway/src/holds/holds.service.js';
import {
  IdempotencyService,
  fingerprintOf,
} from '../../../apps/gateway/src/idempotency/idempotency.service.js';

/**
 * Two requests with one Idempotency-Key, racing: the first commits its capture and its answer
 * just after the second's lock statement began — the lock is free by the time it is tried, but
 * the statement's snapshot predates the commit, so the second sees no stored answer and runs its
 * own work, which finds the hold already captured. It must answer what the first did.
 */
describe('Idempotency-Key: a retry racing the first request', () => {
  // A database of its own: the hold is written without its account's held balance.
  const { ownerUrl, appUrl } = separateDatabase('idemrace');
  const tenantId = newId('ten');
  let owner: DataSource;
  let app: DataSource;
  let idempotency: IdempotencyService;
  let account: string;
  let holds: HoldsService;

  beforeAll(async () => {
    await migrateDatabase({ DATABASE_MIGRATION_URL: ownerUrl, DATABASE_STATEMENT_TIMEOUT_MS: 60_000 });
    owner = await openDataSource(2, ownerUrl);
    app = await openDataSource(4, appUrl);
    idempotency = new IdempotencyService(
      app,
      new OutboxSignal(app),
      SecretBox.forKeys([]),
      new IdempotencyStore(),
    );
    const ledger = new Ledger(
      new SystemAccounts(app, new AccountRepository()),
      new AccountRepository(),
      new TransactionRepository(),
      new HoldRepository(),
      new LedgerStore(),
      new OutboxStore(),
    );
    holds = new HoldsService(new AccountRepository(), new HoldRepository(), ledger);
    await owner.query(`INSERT INTO tenants (id, name) VALUES ($1, 'race')`, [tenantId]);
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
  afterAll(async () => {
    await app?.destroy();
    await owner?.destroy();
    await dropDatabase(ownerUrl);
  });

  it('the loser replays the winner’s answer instead of the refusal its work ran into', async () => {
    const hold = await new HoldRepository().insert(owner.manager, {
      id: newId('hold'),
      tenantId,
      accountId: account,
      amount: 100n,
      currency: 'USD',
      expiresInSeconds: 3600,
      correlationId: null,
    });
    const call = {
      tenantId,
      key: `capture-${hold.id}`,
      method: 'POST',
      path: `/v1/holds/${hold.id}/capture`,
      body: {},
    };
    const capture = async (manager: EntityManager) => {
      const t = await holds.capture(manager, tenantId, hold.id, null, null);
      return { status: 202, body: transactionView(t), headers: { Location: `/v1/transactions/${t.id}` } };
    };

    let first: Awaited<ReturnType<typeof capture>> | undefined;
    const second = await idempotency.execute(call, async (manager) => {
      // The first request commits now, as IdempotencyService would: its capture and its answer.
      first = await owner.transaction(async (m) => {
        const answer = await capture(m);
        await m.query(
          `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, response_body, response_headers)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [
            tenantId,
            call.key,
            fingerprintOf(call),
            answer.status,
            stringifyJson(answer.body),
            JSON.stringify(answer.headers),
          ],
        );
        return answer;
      });
      return capture(manager); // the hold is captured by now: hold_not_active
    });

    assert.ok(first);
    assert.equal(second.status, 202, second.text);
    assert.equal(second.replayed, true);
    assert.equal(second.text, stringifyJson(first.body));
    assert.deepEqual(second.headers, first.headers);
    const [{ n }] = await owner.query(`SELECT count(*)::int AS n FROM transactions WHERE hold_id = $1`, [
      hold.id,
    ]);
    assert.equal(n, 1, 'captured once');
  });
});
