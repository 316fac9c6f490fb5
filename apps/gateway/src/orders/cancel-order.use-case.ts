import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OrderNotFoundError, assertCancellable } from '#domain';
import { OrderRepository, type OrderRecord } from '#persistence';
import { OrderSettlement } from '#ledger';

/** Cancels a reserved order at the client's request: its stock and its hold are given back. */
@Injectable()
export class CancelOrder {
  constructor(
    @Inject(OrderRepository) private readonly orders: OrderRepository,
    @Inject(OrderSettlement) private readonly settlement: OrderSettlement,
  ) {}

  async execute(manager: EntityManager, tenantId: string, orderId: string): Promise<OrderRecord> {
    const order = await this.orders.lock(manager, orderId, tenantId);
    if (!order) throw new OrderNotFoundError(orderId);
    assertCancellable(order.id, order.status);
    return this.settlement.release(manager, order, { status: 'cancelled' });
  }
}
