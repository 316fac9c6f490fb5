import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OrderNotCompletedError, OrderNotFoundError, hasIdPrefix } from '#domain';
import { OrderRepository } from '#persistence';
import { receiptFilename, renderReceipt } from './receipt-document.js';
import { ReceiptRepository } from './receipt.repository.js';

export interface ReceiptFile {
  filename: string;
  pdf: Buffer;
}

/** A completed order's receipt, from the database: what the gateway, admin and email all serve. */
@Injectable()
export class Receipts {
  constructor(
    @Inject(OrderRepository) private readonly orders: OrderRepository,
    @Inject(ReceiptRepository) private readonly receipts: ReceiptRepository,
  ) {}

  /**
   * The receipt of order `orderId` — of tenant `tenantId`, or of any tenant when null. No such
   * order (or another tenant's): `order_not_found`; not completed yet (or never): `order_not_completed`.
   */
  async of(manager: EntityManager, orderId: string, tenantId: string | null): Promise<ReceiptFile> {
    const seller = hasIdPrefix(orderId, 'ord')
      ? await this.receipts.seller(manager, orderId, tenantId)
      : null;
    const order = seller && (await this.orders.find(manager, seller.tenantId, orderId));
    if (!seller || !order) throw new OrderNotFoundError(orderId);
    if (order.status !== 'completed' || !order.completedAt)
      throw new OrderNotCompletedError(orderId, order.status);
    const pdf = await renderReceipt({
      tenantName: seller.tenantName,
      order: { ...order, completedAt: order.completedAt },
    });
    return { filename: receiptFilename(orderId), pdf };
  }
}
