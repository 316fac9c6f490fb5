import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { OrderSettlement } from '#ledger';
import { OrderRepository, ProductRepository, type OrderRecord } from '#persistence';
import { CancelOrder } from '../../apps/gateway/src/orders/cancel-order.use-case.js';
import { PlaceOrder } from '../../apps/gateway/src/orders/place-order.use-case.js';
import { OrderReservationSweep } from '../../apps/transaction-worker/src/orders/order-reservation.sweep.js';
import { UseCases } from '../support/use-cases.js';

/**
 * Orders' ends called directly — the gateway's PlaceOrder and CancelOrder, the worker's
 * completion (OrderSettlement, as its handler calls it) and reservation sweep — on the real
 * database, so that a reserved order stays reserved until the test says, and races are run on
 * purpose. Each test on a tenant of its own.
 */
describe('orders: cancel, sweep, failed captures and their races', () => {
  let uc: UseCases;

  beforeAll(async () => {
    uc = await UseCases.open();
  });
  afterAll(() => uc?.close());

  const shop = async (opts: { stock: number; funds: number; price?: number }) => {
    const { tenantId, accounts } = await uc.tenantWithAccounts(1);
    const [account] = accounts;
    if (opts.funds > 0) {
      const t = await uc.transact(tenantId, {
        type: 'deposit',
        destinationAccountId: account,
        amount: BigInt(opts.funds),
        currency: 'USD',
      });
      assert.equal(t.status, 'succeeded');
    }
    const product = await uc.db.transaction((m) =>
      uc.gateway.get(ProductRepository).insert(m, tenantId, {
        sku: 'LAMP',
        name: 'Lamp',
        description: null,
        category: null,
        price: BigInt(opts.price ?? 100),
        currency: 'USD',
        stock: BigInt(opts.stock),
        metadata: {},
      }),
    );
    return { tenantId, account, product: product.id };
  };
  const place = (s: { tenantId: string; account: string; product: string }, quantity: number) =>
    uc.db.transaction((m) =>
      uc.gateway.get(PlaceOrder).execute(
        m,
        s.tenantId,
        {
          accountId: s.account,
          items: [{ productId: s.product, quantity: BigInt(quantity) }],
          customerEmail: null,
          metadata: {},
        },
        null,
      ),
    );
  const cancel = (tenantId: string, orderId: string) =>
    uc.db.transaction((m) => uc.gateway.get(CancelOrder).execute(m, tenantId, orderId));
  /** What the worker does with an order's command. */
  const complete = (orderId: string) =>
    uc.db.transaction(async (m) => {
      const order = (await uc.worker.get(OrderRepository).lock(m, orderId))!;
      return uc.worker.get(OrderSettlement).complete(m, order);
    });
  const state = async (s: { account: string; product: string }, orderId: string) => {
    const [row] = await uc.db.query(
      `SELECT o.status, a.posted::int AS posted, a.held::int AS held,
              p.stock_received::int AS received, p.stock_reserved::int AS reserved, p.stock_sold::int AS sold
         FROM orders o, accounts a, products p WHERE o.id = $1 AND a.id = $2 AND p.id = $3`,
      [orderId, s.account, s.product],
    );
    return row as {
      status: string;
      posted: number;
      held: number;
      received: number;
      reserved: number;
      sold: number;
    };
  };

  it('a reserved order is cancelled once: stock and hold given back, order.cancelled written', async () => {
    const s = await shop({ stock: 5, funds: 1_000 });
    const order = await place(s, 2);
    assert.deepEqual(await state(s, order.id), {
      status: 'reserved',
      posted: 1_000,
      held: 200,
      received: 5,
      reserved: 2,
      sold: 0,
    });
    const cancelled = await cancel(s.tenantId, order.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(await state(s, order.id), {
      status: 'cancelled',
      posted: 1_000,
      held: 0,
      received: 5,
      reserved: 0,
      sold: 0,
    });
    await assert.rejects(cancel(s.tenantId, order.id), { code: 'order_not_cancellable' });
    await assert.rejects(cancel('ten_other', order.id), { code: 'order_not_found' });
    // A command arriving after the cancel leaves the order as it is.
    assert.equal((await complete(order.id)).status, 'cancelled');
    const events = await uc.db.query(
      `SELECT routing_key FROM outbox WHERE routing_key LIKE 'order.%' AND payload->'data'->>'id' = $1`,
      [order.id],
    );
    assert.deepEqual(
      events.map((e: { routing_key: string }) => e.routing_key),
      ['order.cancelled'],
    );
  });

  it('the sweep cancels a reservation past its time, and only that one', async () => {
    const s = await shop({ stock: 4, funds: 1_000 });
    const stale = await place(s, 3);
    const fresh = await place(s, 1);
    await uc.db.query(`UPDATE orders SET reserved_until = now() - interval '1 second' WHERE id = $1`, [
      stale.id,
    ]);
    assert.ok((await uc.worker.get(OrderReservationSweep).sweep()) >= 1);
    assert.equal((await state(s, stale.id)).status, 'cancelled');
    assert.deepEqual(await state(s, fresh.id), {
      status: 'reserved',
      posted: 1_000,
      held: 100,
      received: 4,
      reserved: 1,
      sold: 0,
    });
  });

  it('a capture that fails (the account frozen meanwhile) fails the order and gives everything back', async () => {
    const s = await shop({ stock: 4, funds: 1_000 });
    const order = await place(s, 1);
    await uc.db.query(`UPDATE accounts SET status = 'frozen' WHERE id = $1`, [s.account]);
    const done = await complete(order.id);
    assert.equal(done.status, 'failed');
    assert.equal(done.failureCode, 'account_frozen');
    assert.deepEqual(await state(s, order.id), {
      status: 'failed',
      posted: 1_000,
      held: 0,
      received: 4,
      reserved: 0,
      sold: 0,
    });
  });

  it('cancel racing completion, and the sweep racing cancel: each order ends once, stock and money agree', async () => {
    const s = await shop({ stock: 40, funds: 100_000 });
    const ends: string[] = [];
    for (let i = 0; i < 10; i++) {
      const order = await place(s, 2);
      const outcomes = await Promise.allSettled([complete(order.id), cancel(s.tenantId, order.id)]);
      const end = await state(s, order.id);
      ends.push(end.status);
      assert.ok(end.status === 'completed' || end.status === 'cancelled', end.status);
      // The loser saw the winner's decision: an untouched order (completion) or a 409 (cancel).
      const [completion, cancellation] = outcomes;
      assert.equal(completion.status, 'fulfilled');
      if (end.status === 'completed') {
        assert.equal(cancellation.status, 'rejected');
        assert.equal((cancellation as PromiseRejectedResult).reason.code, 'order_not_cancellable');
      } else {
        assert.equal(cancellation.status, 'fulfilled');
        assert.equal((completion as PromiseFulfilledResult<OrderRecord>).value.status, 'cancelled');
      }
    }
    for (let i = 0; i < 10; i++) {
      const order = await place(s, 1);
      await uc.db.query(`UPDATE orders SET reserved_until = now() - interval '1 second' WHERE id = $1`, [
        order.id,
      ]);
      await Promise.allSettled([uc.worker.get(OrderReservationSweep).sweep(), cancel(s.tenantId, order.id)]);
      assert.equal((await state(s, order.id)).status, 'cancelled');
      const events = await uc.db.query(
        `SELECT count(*)::int AS n FROM outbox WHERE routing_key = 'order.cancelled' AND payload->'data'->>'id' = $1`,
        [order.id],
      );
      assert.equal(events[0].n, 1);
    }
    const sold = ends.filter((e) => e === 'completed').length * 2;
    const final = await uc.db.query(
      `SELECT p.stock_reserved::int AS reserved, p.stock_sold::int AS sold, a.posted::int AS posted, a.held::int AS held
         FROM products p, accounts a WHERE p.id = $1 AND a.id = $2`,
      [s.product, s.account],
    );
    assert.deepEqual(final[0], { reserved: 0, sold, posted: 100_000 - sold * 100, held: 0 });
  });
});
