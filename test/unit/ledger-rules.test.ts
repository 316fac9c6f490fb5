import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import {
  routeOf,
  refundSource,
  AccountFrozenError,
  AmountOverflowError,
  BALANCE_MAX,
  BALANCE_MIN,
  authorizeHold,
  checkBalanceChange,
  releaseHold,
  CurrencyMismatchError,
  InsufficientFundsError,
  InvalidTransitionError,
  RefundExceedsRemainingError,
  SameAccountError,
  TransactionNotRefundableError,
  assertBalanced,
  assertTransition,
  available,
  checkRefund,
  isTerminal,
  lockOrder,
  post,
  type LedgerAccount,
} from '#domain';

const account = (id: string, patch: Partial<LedgerAccount> = {}): LedgerAccount => ({
  id,
  kind: 'customer',
  currency: 'USD',
  status: 'active',
  posted: 0n,
  held: 0n,
  ...patch,
});

describe('ledger rules', () => {
  it('a balance may not leave the 64-bit range: amount_overflow, on either side, for every kind of change', () => {
    const external = (posted: bigint) => account('ext', { kind: 'external', posted });
    const revenue = (posted: bigint) => account('rev', { kind: 'revenue', posted });
    // A deposit: the outside world goes down, the customer up.
    assert.throws(
      () =>
        post({
          from: external(-5n),
          to: account('c', { posted: BALANCE_MAX - 9n }),
          amount: 10n,
          currency: 'USD',
        }),
      AmountOverflowError,
    );
    assert.throws(
      () => post({ from: external(BALANCE_MIN + 9n), to: account('c'), amount: 10n, currency: 'USD' }),
      (e: AmountOverflowError) => e.code === 'amount_overflow',
    );
    // A charge (a capture, a usage charge, an order): revenue goes up.
    assert.throws(
      () =>
        post({
          from: account('c', { posted: 50n }),
          to: revenue(BALANCE_MAX - 1n),
          amount: 10n,
          currency: 'USD',
        }),
      AmountOverflowError,
    );
    // Up to the edge is fine.
    assert.equal(
      post({
        from: external(BALANCE_MIN + 10n),
        to: account('c', { posted: BALANCE_MAX - 10n }),
        amount: 10n,
        currency: 'USD',
      })[1].balanceAfter,
      BALANCE_MAX,
    );
    assert.equal(checkBalanceChange('x', BALANCE_MAX, 0n), BALANCE_MAX);
    assert.throws(() => checkBalanceChange('x', BALANCE_MAX, 1n), AmountOverflowError);
    assert.throws(() => checkBalanceChange('x', BALANCE_MIN, -1n), AmountOverflowError);
    // Holds go through the same rule.
    assert.equal(authorizeHold(account('c', { posted: BALANCE_MAX }), BALANCE_MAX, 'USD'), BALANCE_MAX);
    assert.equal(releaseHold(account('c', { posted: 10n, held: 10n }), { amount: 10n }), 0n);
  });

  it('posts balanced entries with running balances', () => {
    const postings = post({
      from: account('a', { posted: 500n }),
      to: account('b', { posted: 7n }),
      amount: 200n,
      currency: 'USD',
    });
    assert.deepEqual(postings, [
      { accountId: 'a', amount: -200n, balanceAfter: 300n },
      { accountId: 'b', amount: 200n, balanceAfter: 207n },
    ]);
  });

  it('spends only available funds (posted − held) of a customer account', () => {
    const a = account('a', { posted: 500n, held: 200n });
    assert.equal(available(a), 300n);
    assert.doesNotThrow(() => post({ from: a, to: account('b'), amount: 300n, currency: 'USD' }));
    assert.throws(
      () => post({ from: a, to: account('b'), amount: 301n, currency: 'USD' }),
      InsufficientFundsError,
    );
  });

  it('lets the external (outside world) account go negative: it mirrors money in and out', () => {
    const postings = post({
      from: account('ext', { kind: 'external' }),
      to: account('a'),
      amount: 10n,
      currency: 'USD',
    });
    assert.equal(postings[0].balanceAfter, -10n);
  });

  it('refuses frozen accounts, other currencies, the same account twice and non-positive amounts', () => {
    assert.throws(
      () =>
        post({
          from: account('a', { posted: 9n, status: 'frozen' }),
          to: account('b'),
          amount: 1n,
          currency: 'USD',
        }),
      AccountFrozenError,
    );
    assert.throws(
      () =>
        post({
          from: account('a', { posted: 9n }),
          to: account('b', { status: 'frozen' }),
          amount: 1n,
          currency: 'USD',
        }),
      AccountFrozenError,
    );
    assert.throws(
      () =>
        post({
          from: account('a', { posted: 9n }),
          to: account('b', { currency: 'EUR' }),
          amount: 1n,
          currency: 'USD',
        }),
      CurrencyMismatchError,
    );
    assert.throws(
      () => post({ from: account('a', { posted: 9n }), to: account('a'), amount: 1n, currency: 'USD' }),
      SameAccountError,
    );
    assert.throws(
      () => post({ from: account('a', { posted: 9n }), to: account('b'), amount: 0n, currency: 'USD' }),
      RangeError,
    );
  });

  it('rejects unbalanced postings', () => {
    assert.throws(() => assertBalanced([{ accountId: 'a', amount: 1n, balanceAfter: 1n }]), /unbalanced/);
  });

  it('refunds: only succeeded charges and transfers, never more than is left', () => {
    const charge = { type: 'charge' as const, status: 'succeeded', amount: 100n, refundedAmount: 30n };
    assert.equal(checkRefund(charge, null), 70n);
    assert.equal(checkRefund(charge, 70n), 70n);
    assert.throws(() => checkRefund(charge, 71n), RefundExceedsRemainingError);
    assert.throws(
      () => checkRefund({ ...charge, refundedAmount: 100n }, null),
      TransactionNotRefundableError,
    );
    assert.throws(() => checkRefund({ ...charge, type: 'deposit' }, null), TransactionNotRefundableError);
    assert.throws(() => checkRefund({ ...charge, status: 'failed' }, null), TransactionNotRefundableError);
    assert.equal(checkRefund({ ...charge, type: 'transfer' }, 1n), 1n);
  });

  it('locks in one global order', () => {
    assert.deepEqual(lockOrder(['acc_b', 'acc_a', 'acc_b']), ['acc_a', 'acc_b']);
  });
});

describe('transaction state machine', () => {
  it('pending → processing → succeeded | failed, and final states are sticky', () => {
    assert.doesNotThrow(() => assertTransition('pending', 'processing'));
    assert.doesNotThrow(() => assertTransition('processing', 'succeeded'));
    assert.doesNotThrow(() => assertTransition('processing', 'failed'));
    for (const [from, to] of [
      ['pending', 'succeeded'],
      ['succeeded', 'failed'],
      ['failed', 'succeeded'],
      ['failed', 'processing'],
      ['succeeded', 'pending'],
    ] as const) {
      assert.throws(() => assertTransition(from, to), InvalidTransitionError, `${from} → ${to}`);
    }
    assert.equal(isTerminal('succeeded'), true);
    assert.equal(isTerminal('failed'), true);
    assert.equal(isTerminal('pending'), false);
  });
});

describe('routing by transaction type', () => {
  const t = (type: string, source: string | null, destination: string | null) =>
    ({ type, sourceAccountId: source, destinationAccountId: destination }) as Parameters<typeof routeOf>[0];
  const external = { system: 'external' };
  const revenue = { system: 'revenue' };

  it('each type moves money between its customer accounts and the tenant’s system accounts', () => {
    assert.deepEqual(routeOf(t('deposit', null, 'a')), { from: external, to: { account: 'a' } });
    assert.deepEqual(routeOf(t('withdrawal', 'a', null)), { from: { account: 'a' }, to: external });
    assert.deepEqual(routeOf(t('transfer', 'a', 'b')), { from: { account: 'a' }, to: { account: 'b' } });
    assert.deepEqual(routeOf(t('charge', 'a', null)), { from: { account: 'a' }, to: revenue });
    assert.deepEqual(routeOf(t('capture', 'a', null)), { from: { account: 'a' }, to: revenue });
    assert.deepEqual(routeOf(t('adjustment', null, 'a')), { from: external, to: { account: 'a' } });
    assert.deepEqual(routeOf(t('adjustment', 'a', null)), { from: { account: 'a' }, to: external });
  });

  it('a refund goes back the way its parent came', () => {
    const transfer = t('transfer', 'a', 'b');
    const charge = t('charge', 'a', null);
    assert.equal(refundSource(transfer), 'b');
    assert.equal(refundSource(charge), null);
    assert.deepEqual(routeOf(t('refund', null, null), transfer), {
      from: { account: 'b' },
      to: { account: 'a' },
    });
    assert.deepEqual(routeOf(t('refund', null, null), charge), { from: revenue, to: { account: 'a' } });
    assert.throws(() => routeOf(t('refund', null, null)));
  });
});
