import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import fc from 'fast-check';
import {
  InsufficientStockError,
  MAX_AMOUNT,
  OrderNotCancellableError,
  OutOfStockError,
  ProductArchivedError,
  ProductNotFoundError,
  adjustStock,
  assertCancellable,
  availableStock,
  canMoveOrder,
  priceOrder,
  ratingView,
  releaseStock,
  reserveStock,
  sellReserved,
  stockView,
  tallyRating,
  type OrderableProduct,
  type StockCounters,
} from '#domain';

const stock = (received: number, reserved = 0, sold = 0): StockCounters => ({
  received: BigInt(received),
  reserved: BigInt(reserved),
  sold: BigInt(sold),
});

describe('stock', () => {
  it('shows on hand, reserved and available as the API defines them', () => {
    assert.deepEqual(stockView(stock(10, 3, 2)), { onHand: 8n, reserved: 3n, available: 5n });
  });

  it('reserves every line or none, and names every short line', () => {
    const products = new Map([
      ['prod_a', stock(5)],
      ['prod_b', stock(1)],
      ['prod_c', stock(0)],
    ]);
    const reserved = reserveStock(products, [{ productId: 'prod_a', quantity: 5n }]);
    assert.deepEqual(reserved.get('prod_a'), stock(5, 5));
    assert.throws(
      () =>
        reserveStock(products, [
          { productId: 'prod_a', quantity: 2n },
          { productId: 'prod_b', quantity: 2n },
          { productId: 'prod_c', quantity: 1n },
        ]),
      (error: unknown) =>
        error instanceof OutOfStockError &&
        error.shortItems.map((s) => s.productId).join() === 'prod_b,prod_c' &&
        error.shortItems[0].available === 1n,
    );
    assert.throws(
      () => reserveStock(products, [{ productId: 'prod_x', quantity: 1n }]),
      ProductNotFoundError,
    );
  });

  it('never leaves less on hand than reserved when corrected', () => {
    assert.deepEqual(adjustStock('prod_a', stock(10, 4, 3), -3n), stock(7, 4, 3));
    assert.throws(() => adjustStock('prod_a', stock(10, 4, 3), -4n), InsufficientStockError);
    assert.throws(() => adjustStock('prod_a', stock(10), 0n), RangeError);
  });

  it('keeps reserved + sold ≤ received through any sequence of operations', () => {
    type Op = ['reserve' | 'release' | 'sell' | 'adjust', number];
    const op = fc.tuple(
      fc.constantFrom<Op[0]>('reserve', 'release', 'sell', 'adjust'),
      fc.integer({ min: -20, max: 20 }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let s = stock(0);
        for (const [kind, n] of ops) {
          try {
            if (kind === 'reserve' && n > 0)
              s = reserveStock(new Map([['p', s]]), [{ productId: 'p', quantity: BigInt(n) }]).get('p')!;
            if (kind === 'release' && n > 0) s = releaseStock(s, BigInt(n));
            if (kind === 'sell' && n > 0) s = sellReserved(s, BigInt(n));
            if (kind === 'adjust' && n !== 0) s = adjustStock('p', s, BigInt(n));
          } catch {
            // a refused operation leaves the counters as they were
          }
          assert.ok(s.reserved >= 0n && s.sold >= 0n);
          assert.ok(
            s.reserved + s.sold <= s.received,
            JSON.stringify(s, (_, v) => String(v)),
          );
          assert.ok(availableStock(s) >= 0n);
        }
      }),
    );
  });
});

describe('orders', () => {
  const product = (id: string, price: number, extra: Partial<OrderableProduct> = {}): OrderableProduct => ({
    id,
    sku: id.toUpperCase(),
    name: `Product ${id}`,
    price: BigInt(price),
    currency: 'USD',
    status: 'active',
    ...extra,
  });

  it("prices lines at today's prices, in the account's currency", () => {
    const products = new Map([
      ['prod_a', product('prod_a', 250)],
      ['prod_b', product('prod_b', 1000)],
    ]);
    const { lines, total } = priceOrder(
      'acc_1',
      'USD',
      [
        { productId: 'prod_a', quantity: 3n },
        { productId: 'prod_b', quantity: 1n },
      ],
      products,
    );
    assert.equal(total, 1750n);
    assert.deepEqual(
      lines.map((l) => [l.productId, l.unitPrice, l.amount]),
      [
        ['prod_a', 250n, 750n],
        ['prod_b', 1000n, 1000n],
      ],
    );
  });

  it('refuses missing, archived and foreign-currency products, and totals past one payment', () => {
    const products = new Map([
      ['prod_old', product('prod_old', 5, { status: 'archived' })],
      ['prod_eur', product('prod_eur', 5, { currency: 'EUR' })],
      ['prod_big', product('prod_big', Number(MAX_AMOUNT / 1000n))],
    ]);
    const order =
      (productId: string, quantity = 1n) =>
      () =>
        priceOrder('acc_1', 'USD', [{ productId, quantity }], products);
    assert.throws(order('prod_none'), { code: 'product_not_found' });
    assert.throws(order('prod_old'), ProductArchivedError);
    assert.throws(order('prod_eur'), { code: 'currency_mismatch' });
    assert.throws(order('prod_big', 1001n), { code: 'amount_overflow' });
  });

  it('moves only from reserved, once', () => {
    assert.ok(canMoveOrder('reserved', 'completed'));
    assert.ok(canMoveOrder('reserved', 'cancelled'));
    assert.ok(canMoveOrder('reserved', 'failed'));
    for (const final of ['completed', 'cancelled', 'failed'] as const) {
      assert.ok(!canMoveOrder(final, 'cancelled'));
      assert.ok(!canMoveOrder(final, 'completed'));
      assert.throws(() => assertCancellable('ord_1', final), OrderNotCancellableError);
    }
    assertCancellable('ord_1', 'reserved');
  });
});

describe('ratings', () => {
  it('shows the average to two decimals, rounded half up in integers, and null while unrated', () => {
    assert.deepEqual(ratingView({ count: 0n, total: 0n }), { average: null, count: 0n });
    assert.deepEqual(ratingView({ count: 2n, total: 7n }), { average: 3.5, count: 2n });
    assert.deepEqual(ratingView({ count: 3n, total: 13n }), { average: 4.33, count: 3n });
    assert.deepEqual(ratingView({ count: 3n, total: 14n }), { average: 4.67, count: 3n });
    // 33/8 = 4.125 exactly: half up gives 4.13 (a float would give 4.12).
    assert.deepEqual(ratingView({ count: 8n, total: 33n }), { average: 4.13, count: 8n });
  });

  it('counts a first rating and replaces a second; the tally always equals the ratings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 5 })), { maxLength: 60 }),
        (moves) => {
          const byAccount = new Map<number, number>();
          let tally = { count: 0n, total: 0n };
          for (const [account, rating] of moves) {
            tally = tallyRating(tally, rating, byAccount.get(account) ?? null);
            byAccount.set(account, rating);
          }
          const ratings = [...byAccount.values()];
          assert.equal(tally.count, BigInt(ratings.length));
          assert.equal(tally.total, BigInt(ratings.reduce((a, b) => a + b, 0)));
        },
      ),
    );
  });
});
