import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import fc from 'fast-check';
import { isDomainError } from '#domain';
import type { CreateTransactionCommand } from '../../apps/gateway/src/transactions/create-transaction/create-transaction.command.js';
import { UseCases } from '../support/use-cases.js';

/**
 * Properties of the ledger over random sequences of operations, each applied through the real use
 * cases (the gateway's CreateTransaction and HoldsService, the worker's TransactionBatcher) on
 * PostgreSQL, each sequence on a tenant of its own. Refused operations are part of the sequences:
 * they must change nothing.
 */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 25);
const ACCOUNTS = 3;

type Op =
  | { kind: 'deposit' | 'withdrawal' | 'charge'; account: number; amount: number }
  | { kind: 'transfer'; from: number; to: number; amount: number }
  | { kind: 'refund'; parent: number; amount: number | null }
  | { kind: 'hold'; account: number; amount: number }
  | { kind: 'capture'; hold: number; amount: number | null }
  | { kind: 'void'; hold: number }
  | { kind: 'redeliver'; transaction: number; sameMessage: boolean };

const account = fc.integer({ min: 0, max: ACCOUNTS - 1 });
const amount = fc.integer({ min: 1, max: 400 });
const pick = fc.nat({ max: 20 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('deposit' as const), account, amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('withdrawal' as const), account, amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('charge' as const), account, amount }) },
  {
    weight: 2,
    arbitrary: fc
      .record({ kind: fc.constant('transfer' as const), from: account, to: account, amount })
      .filter((t) => t.from !== t.to),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('refund' as const), parent: pick, amount: fc.option(amount) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('hold' as const), account, amount }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('capture' as const), hold: pick, amount: fc.option(amount) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('void' as const), hold: pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('redeliver' as const),
      transaction: pick,
      sameMessage: fc.boolean(),
    }),
  },
);

describe('ledger properties over random operations (fast-check, PostgreSQL)', () => {
  let uc: UseCases;

  beforeAll(async () => {
    uc = await UseCases.open();
  });
  afterAll(() => uc?.close());

  /** Everything of the tenant's that money is: account balances and entries. */
  const snapshot = async (tenantId: string) => ({
    accounts: await uc.db.query(
      `SELECT id, posted::text, held::text FROM accounts WHERE tenant_id = $1 ORDER BY id`,
      [tenantId],
    ),
    entries: await uc.db.query(
      `SELECT e.id, e.amount::text FROM ledger_entries e JOIN accounts a ON a.id = e.account_id
        WHERE a.tenant_id = $1 ORDER BY e.id`,
      [tenantId],
    ),
    transactions: await uc.db.query(
      `SELECT id, status, refunded_amount::text FROM transactions WHERE tenant_id = $1 ORDER BY id`,
      [tenantId],
    ),
  });

  /** Runs `op`; a refusal by a business rule is fine, and must leave everything as it was. */
  const apply = async (
    tenantId: string,
    accounts: string[],
    seen: { transactions: { id: string; message: string }[]; parents: string[]; holds: string[] },
    o: Op,
  ) => {
    const nth = <T>(list: T[], i: number) => (list.length ? list[i % list.length] : undefined);
    const accept = async (command: CreateTransactionCommand) => {
      const { id } = await uc.accept(tenantId, command);
      const message = `m-${id}`;
      seen.transactions.push({ id, message });
      await uc.deliver(id, message);
      return id;
    };
    const before = await snapshot(tenantId);
    try {
      switch (o.kind) {
        case 'deposit':
          await accept({
            type: 'deposit',
            destinationAccountId: accounts[o.account],
            amount: BigInt(o.amount),
            currency: 'USD',
          });
          return;
        case 'withdrawal':
        case 'charge': {
          const id = await accept({
            type: o.kind,
            sourceAccountId: accounts[o.account],
            amount: BigInt(o.amount),
            currency: 'USD',
          });
          if (o.kind === 'charge') seen.parents.push(id);
          return;
        }
        case 'transfer':
          seen.parents.push(
            await accept({
              type: 'transfer',
              sourceAccountId: accounts[o.from],
              destinationAccountId: accounts[o.to],
              amount: BigInt(o.amount),
              currency: 'USD',
            }),
          );
          return;
        case 'refund': {
          const parent = nth(seen.parents, o.parent);
          if (!parent) return;
          await accept({
            type: 'refund',
            parentTransactionId: parent,
            ...(o.amount === null ? {} : { amount: BigInt(o.amount) }),
          });
          return;
        }
        case 'hold': {
          const hold = await uc.db.transaction((m) =>
            uc.holds.create(
              m,
              tenantId,
              {
                accountId: accounts[o.account],
                amount: BigInt(o.amount),
                currency: 'USD',
                expiresInSeconds: 3600,
              },
              null,
            ),
          );
          seen.holds.push(hold.id);
          return;
        }
        case 'capture': {
          const hold = nth(seen.holds, o.hold);
          if (!hold) return;
          const t = await uc.db.transaction((m) =>
            uc.holds.capture(m, tenantId, hold, o.amount === null ? null : BigInt(o.amount), null),
          );
          seen.transactions.push({ id: t.id, message: `m-${t.id}` });
          await uc.deliver(t.id, `m-${t.id}`);
          return;
        }
        case 'void': {
          const hold = nth(seen.holds, o.hold);
          if (hold) await uc.db.transaction((m) => uc.holds.void(m, tenantId, hold));
          return;
        }
        case 'redeliver': {
          const t = nth(seen.transactions, o.transaction);
          if (t) await uc.deliver(t.id, o.sameMessage ? t.message : undefined);
          return;
        }
      }
    } catch (error) {
      if (!isDomainError(error)) throw error;
      assert.deepEqual(
        await snapshot(tenantId),
        before,
        `${JSON.stringify(o)} was refused but changed something`,
      );
    }
  };

  const checkInvariants = async (tenantId: string) => {
    const unbalanced = await uc.db.query(
      `SELECT e.transaction_id, sum(e.amount)::text AS sum FROM ledger_entries e
         JOIN transactions t ON t.id = e.transaction_id
        WHERE t.tenant_id = $1 GROUP BY 1 HAVING sum(e.amount) <> 0`,
      [tenantId],
    );
    assert.deepEqual(unbalanced, [], "every transaction's entries sum to zero");
    const negative = await uc.db.query(
      `SELECT id, posted::text, held::text FROM accounts
        WHERE tenant_id = $1 AND kind = 'customer' AND (posted < 0 OR held < 0 OR posted - held < 0)`,
      [tenantId],
    );
    assert.deepEqual(negative, [], 'no customer account below zero');
    const drift = await uc.db.query(
      `SELECT a.id, a.posted::text, coalesce(sum(e.amount), 0)::text AS entries FROM accounts a
         LEFT JOIN ledger_entries e ON e.account_id = a.id
        WHERE a.tenant_id = $1 GROUP BY a.id HAVING a.posted <> coalesce(sum(e.amount), 0)`,
      [tenantId],
    );
    assert.deepEqual(drift, [], 'every balance equals the sum of its entries');
    const overRefunded = await uc.db.query(
      `SELECT p.id, p.amount::text, p.refunded_amount::text,
              coalesce(sum(r.amount) FILTER (WHERE r.status = 'succeeded'), 0)::text AS refunds
         FROM transactions p LEFT JOIN transactions r ON r.parent_transaction_id = p.id AND r.type = 'refund'
        WHERE p.tenant_id = $1 AND p.type IN ('charge', 'transfer')
        GROUP BY p.id
       HAVING coalesce(sum(r.amount) FILTER (WHERE r.status = 'succeeded'), 0) > p.amount
           OR coalesce(sum(r.amount) FILTER (WHERE r.status = 'succeeded'), 0) <> p.refunded_amount`,
      [tenantId],
    );
    assert.deepEqual(overRefunded, [], 'refunds never exceed their original (and are counted on it)');
  };

  it('entries balance, no customer account goes below zero, balances are their entries, refunds stay within their original, and applying a command again changes nothing', async () => {
    let sequences = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 30, size: 'max' }), async (ops) => {
        sequences++;
        const { tenantId, accounts } = await uc.tenantWithAccounts(ACCOUNTS);
        const seen = { transactions: [], parents: [], holds: [] } as Parameters<typeof apply>[2];
        // Some money to start with, so that most spending is accepted and some is refused.
        for (let i = 0; i < ACCOUNTS; i++)
          await apply(tenantId, accounts, seen, { kind: 'deposit', account: i, amount: 500 });
        for (const o of ops) await apply(tenantId, accounts, seen, o);
        await checkInvariants(tenantId);
        // Every command once more, as the same message and as a new one: nothing moves.
        const settled = await snapshot(tenantId);
        for (const t of seen.transactions) {
          await uc.deliver(t.id, t.message);
          await uc.deliver(t.id);
        }
        assert.deepEqual(await snapshot(tenantId), settled, 'a command applied twice changed something');
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    assert.equal(sequences, RUNS);
  });
});
