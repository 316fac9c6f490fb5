import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { newId, orderView, releaseStock, sellReserved, type StockCounters } from '#domain';
import { Events, eventMessage } from '#messaging';
import {
  HoldRepository,
  OrderRepository,
  OutboxStore,
  ProductRepository,
  TransactionRepository,
  type OrderRecord,
  type ProductRecord,
} from '#persistence';
import { Ledger } from './ledger.js';

type Release = { status: 'cancelled' } | { status: 'failed'; failure: { code: string; message: string } };

/**
 * How a reserved order ends, with its money moved by the ledger: completed (its hold captured to
 * the tenant's revenue, reserved units sold) or released (cancelled by the client or the
 * reservation sweep, or failed: units and hold given back). The caller holds the order locked;
 * then come its products in id order, then the ledger's locks (transactions, holds, accounts) —
 * the order every writer of these rows takes them in.
 */
@Injectable()
export class OrderSettlement {
  constructor(
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject(OrderRepository) private readonly orders: OrderRepository,
    @Inject(ProductRepository) private readonly products: ProductRepository,
    @Inject(HoldRepository) private readonly holds: HoldRepository,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(OutboxStore) private readonly outbox: OutboxStore,
  ) {}

  /** Captures the order's hold; on success its units are sold, else the order fails and gives all back. */
  async complete(manager: EntityManager, order: OrderRecord): Promise<OrderRecord> {
    if (order.status !== 'reserved') return order;
    const products = await this.lockProducts(manager, order);
    const captureId = newId('txn');
    await this.transactions.insert(manager, {
      id: captureId,
      tenantId: order.tenantId,
      type: 'capture',
      status: 'pending',
      amount: order.total,
      currency: order.currency,
      sourceAccountId: order.accountId,
      destinationAccountId: null,
      parentTransactionId: null,
      holdId: order.holdId,
      description: null,
      metadata: { orderId: order.id, holdId: order.holdId },
      correlationId: order.correlationId,
    });
    await this.holds.markCapturing(manager, order.holdId, captureId);
    const [applied] = await this.ledger.apply(manager, { kind: 'transactions', ids: [captureId] });
    if (applied.status !== 'succeeded') {
      const capture = await this.transactions.find(manager, order.tenantId, captureId);
      return this.release(
        manager,
        order,
        {
          status: 'failed',
          failure: {
            code: capture?.failureCode ?? 'capture_failed',
            message: capture?.failureMessage ?? 'The payment could not be taken.',
          },
        },
        products,
      );
    }
    await this.products.setStock(
      manager,
      this.eachLine(order, products, (stock, quantity) => sellReserved(stock, quantity)),
    );
    const done = await this.orders.finish(manager, order.id, {
      status: 'completed',
      transactionId: captureId,
    });
    await this.announce(manager, done);
    return done;
  }

  /** Gives back the order's units and its hold; the order ends cancelled or failed. */
  async release(
    manager: EntityManager,
    order: OrderRecord,
    outcome: Release,
    lockedProducts?: Map<string, ProductRecord>,
  ): Promise<OrderRecord> {
    const products = lockedProducts ?? (await this.lockProducts(manager, order));
    await this.products.setStock(
      manager,
      this.eachLine(order, products, (stock, quantity) => releaseStock(stock, quantity)),
    );
    const found = await this.holds.lock(manager, order.tenantId, order.holdId);
    // An expired hold was released by its own sweep already; a captured one cannot be here.
    if (found && found.hold.status === 'active') {
      await this.ledger.apply(manager, { kind: 'release', holds: [found.hold], status: 'voided' });
    }
    const done = await this.orders.finish(manager, order.id, outcome);
    await this.announce(manager, done);
    return done;
  }

  private lockProducts(manager: EntityManager, order: OrderRecord) {
    return this.products.lockMany(
      manager,
      order.tenantId,
      order.items.map((i) => i.productId),
    );
  }

  private eachLine(
    order: OrderRecord,
    products: Map<string, ProductRecord>,
    change: (stock: StockCounters, quantity: bigint) => StockCounters,
  ): Map<string, StockCounters> {
    const next = new Map<string, StockCounters>();
    for (const item of order.items) {
      next.set(
        item.productId,
        change(next.get(item.productId) ?? products.get(item.productId)!.stock, item.quantity),
      );
    }
    return next;
  }

  private async announce(manager: EntityManager, order: OrderRecord): Promise<void> {
    const data = orderView(order);
    const event =
      order.status === 'completed'
        ? Events.orderCompleted(order.tenantId, data)
        : order.status === 'failed'
          ? Events.orderFailed(order.tenantId, data)
          : Events.orderCancelled(order.tenantId, data);
    await this.outbox.enqueue(manager, [eventMessage(event, order.correlationId)]);
  }
}
