import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import {
  AccountFrozenError,
  CaptureExceedsHoldError,
  CurrencyMismatchError,
  HoldNotActiveError,
  InsufficientFundsError,
  JsonFloat,
  assertVoidable,
  assessUsage,
  authorizeHold,
  captureAmount,
  integerProperty,
  parseJson,
  releaseHold,
  type HoldState,
  type LedgerAccount,
  type Meter,
} from '#domain';

const account = (patch: Partial<LedgerAccount> = {}): LedgerAccount => ({
  id: 'acc_a',
  kind: 'customer',
  currency: 'USD',
  status: 'active',
  posted: 500n,
  held: 100n,
  ...patch,
});

const now = new Date('2026-11-21T12:00:00Z');
const hold = (patch: Partial<HoldState> = {}): HoldState => ({
  id: 'hold_a',
  status: 'active',
  amount: 300n,
  expiresAt: new Date(now.getTime() + 60_000),
  captureTransactionId: null,
  ...patch,
});

describe('hold rules', () => {
  it('a hold takes only available funds', () => {
    assert.equal(authorizeHold(account(), 400n, 'USD'), 500n);
    assert.throws(() => authorizeHold(account(), 401n, 'USD'), InsufficientFundsError);
    assert.throws(() => authorizeHold(account(), 1n, 'EUR'), CurrencyMismatchError);
    assert.throws(() => authorizeHold(account({ status: 'frozen' }), 1n, 'USD'), AccountFrozenError);
  });

  it('captures all by default, part on request, never more than held', () => {
    assert.equal(captureAmount(hold(), null, now), 300n);
    assert.equal(captureAmount(hold(), 120n, now), 120n);
    assert.throws(() => captureAmount(hold(), 301n, now), CaptureExceedsHoldError);
  });

  it('only a live hold can be captured or voided: not captured, voided, expired, past expiry or being captured', () => {
    for (const h of [
      hold({ status: 'captured' }),
      hold({ status: 'voided' }),
      hold({ status: 'expired' }),
      hold({ expiresAt: now }),
      hold({ captureTransactionId: 'txn_x' }),
    ]) {
      assert.throws(() => captureAmount(h, null, now), HoldNotActiveError);
      assert.throws(() => assertVoidable(h, now), HoldNotActiveError);
    }
    assert.doesNotThrow(() => assertVoidable(hold(), now));
  });

  it('releasing gives back exactly the hold, and never below zero', () => {
    assert.equal(releaseHold(account({ held: 300n }), { amount: 300n }), 0n);
    assert.throws(() => releaseHold(account({ held: 10n }), { amount: 300n }));
  });
});

describe('usage rules', () => {
  const sum: Meter = {
    id: 'mtr_s',
    eventType: 'tokens',
    aggregation: 'sum',
    property: 'n',
    unitPrice: 3n,
    currency: 'USD',
  };
  const count: Meter = {
    ...sum,
    id: 'mtr_c',
    eventType: 'call',
    aggregation: 'count',
    property: null,
    unitPrice: 5n,
  };
  const event = (type: string, properties: Record<string, unknown>, accountId: string | null = 'acc_a') => ({
    id: 'e1',
    type,
    accountId,
    properties,
  });

  it('reads integer properties exactly and refuses strings and fractions', () => {
    const props = parseJson('{"a":12345678901234567890,"b":2.5,"c":"7","d":10.0,"e":3}') as Record<
      string,
      unknown
    >;
    assert.deepEqual(integerProperty(props, 'a'), { kind: 'integer', value: 12345678901234567890n });
    assert.deepEqual(integerProperty(props, 'b'), { kind: 'invalid' });
    assert.deepEqual(integerProperty(props, 'c'), { kind: 'invalid' });
    assert.ok(props.d instanceof JsonFloat);
    // Written as a float, it is a float: 10.0 is refused as 2.5 is.
    assert.deepEqual(integerProperty(props, 'd'), { kind: 'invalid' });
    assert.deepEqual(integerProperty({ f: new JsonFloat('7') }, 'f'), { kind: 'invalid' });
    assert.deepEqual(integerProperty(props, 'e'), { kind: 'integer', value: 3n });
    assert.deepEqual(integerProperty(props, 'z'), { kind: 'missing' });
  });

  it('prices count × unit price and sum of the property × unit price', () => {
    const c = assessUsage(event('call', {}), count, 1000n);
    assert.deepEqual(c.ok && c.priced, { meterId: 'mtr_c', quantity: 1n, amount: 5n, currency: 'USD' });
    const s = assessUsage(event('tokens', { n: 40 }), sum, 1000n);
    assert.deepEqual(s.ok && s.priced, { meterId: 'mtr_s', quantity: 40n, amount: 120n, currency: 'USD' });
    const unmetered = assessUsage(event('page_view', {}), undefined, 1000n);
    assert.deepEqual(unmetered, { ok: true, category: 'standard', priced: null });
  });

  it('rejects events that break their rules, with a reason', () => {
    const code = (r: ReturnType<typeof assessUsage>) => (r.ok ? 'ok' : r.code);
    assert.equal(code(assessUsage(event('purchase', {}), undefined, 1n)), 'invalid_purchase');
    assert.equal(code(assessUsage(event('purchase', { amount: 0 }), undefined, 1n)), 'invalid_purchase');
    assert.equal(code(assessUsage(event('purchase', { amount: '5' }), undefined, 1n)), 'invalid_purchase');
    assert.equal(code(assessUsage(event('purchase', { amount: 5 }), undefined, 1n)), 'ok');
    assert.equal(code(assessUsage(event('tokens', {}), sum, 1n)), 'invalid_quantity');
    assert.equal(code(assessUsage(event('tokens', { n: -1 }), sum, 1n)), 'invalid_quantity');
    for (const float of ['1.5', '1.0', '1e3']) {
      assert.equal(
        code(assessUsage(event('tokens', { n: new JsonFloat(float) }), sum, 1n)),
        'invalid_quantity',
        float,
      );
      assert.equal(
        code(assessUsage(event('purchase', { amount: new JsonFloat(float) }), undefined, 1n)),
        'invalid_purchase',
      );
    }
    assert.equal(code(assessUsage(event('call', {}, null), count, 1n)), 'account_required');
    assert.equal(code(assessUsage(event('tokens', { n: 10n ** 18n }), sum, 1n)), 'amount_too_large');
  });

  it('categorises by value against the threshold', () => {
    const category = (r: ReturnType<typeof assessUsage>) => (r.ok ? r.category : r.code);
    assert.equal(category(assessUsage(event('purchase', { amount: 999 }), undefined, 1000n)), 'standard');
    assert.equal(category(assessUsage(event('purchase', { amount: 1000 }), undefined, 1000n)), 'high_value');
    assert.equal(category(assessUsage(event('tokens', { n: 400 }), sum, 1000n)), 'high_value');
  });
});
