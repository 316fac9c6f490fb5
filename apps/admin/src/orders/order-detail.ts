import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { orderView } from '#domain';
import { HoldRepository, OrderRepository, TransactionRepository, type OrderRecord } from '#persistence';
import { notFound } from '../http/errors.js';

/** An order as its tenant sees it, and whose it is. */
export const presentOrder = (o: OrderRecord) => ({ ...orderView(o), tenantId: o.tenantId });

/** One order as operators inspect it: its hold, its capture, its events and its receipt. */
@Injectable()
export class OrderDetail {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OrderRepository) private readonly orders: OrderRepository,
    @Inject(HoldRepository) private readonly holds: HoldRepository,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
  ) {}

  async of(id: string) {
    const manager = this.dataSource.manager;
    const order = await this.orders.findAny(manager, id);
    if (!order) throw notFound(`Order ${id}`);
    const [hold, capture, events] = await Promise.all([
      this.holds.find(manager, order.tenantId, order.holdId),
      order.transactionId ? this.transactions.find(manager, order.tenantId, order.transactionId) : null,
      this.orders.messagesOf(manager, id),
    ]);
    // Every order has its hold (a foreign key), of its own tenant.
    const { id: holdId, status, amount, capturedAmount, currency, expiresAt } = hold!;
    return {
      ...presentOrder(order),
      correlationId: order.correlationId,
      reservedUntil: order.reservedUntil.toISOString(),
      hold: { id: holdId, status, amount, capturedAmount, currency, expiresAt: expiresAt.toISOString() },
      transaction: capture
        ? { id: capture.id, status: capture.status, url: `/admin/api/transactions/${capture.id}` }
        : null,
      events,
      receiptUrl: order.status === 'completed' ? `/admin/api/orders/${order.id}/receipt` : null,
    };
  }
}
