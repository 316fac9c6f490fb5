import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { MessageTypes } from '#domain';
import { OrderSettlement } from '#ledger';
import { AmqpContext, PermanentMessageError, ValidPayload, faultPoint } from '#messaging';
import { InboxStore, OrderRepository, OutboxSignal } from '#persistence';
import { Gate } from '#persistence';
import { OrderRequestedMessage } from './order-requested.message.js';

export const ORDERS_CONSUMER = 'transaction-worker.orders';

@Controller()
export class OrderCommandsHandler {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(InboxStore) private readonly inbox: InboxStore,
    @Inject(OrderRepository) private readonly orders: OrderRepository,
    @Inject(OrderSettlement) private readonly settlement: OrderSettlement,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject('ORDER_GATE') private readonly gate: Gate,
  ) {}

  /**
   * Completes a reserved order in one database transaction with its inbox row: the order locked
   * first, so a cancel (or the reservation sweep) and this take turns; an order that is no longer
   * reserved is left as it is. A redelivered command does nothing. At most ORDER_CONCURRENCY at
   * once: orders for one product wait on its row lock anyway.
   */
  @EventPattern<string>(MessageTypes.orderRequested)
  async onOrderRequested(
    @Payload(new ValidPayload(OrderRequestedMessage, 'malformed_command')) command: OrderRequestedMessage,
    @Ctx() ctx: AmqpContext,
  ): Promise<void> {
    const fresh = await this.gate.run(() =>
      this.dataSource.transaction(async (manager) => {
        if (!(await this.inbox.claim(manager, ORDERS_CONSUMER, ctx.messageId))) return false;
        const order = await this.orders.lock(manager, command.orderId, command.tenantId);
        if (!order)
          throw new PermanentMessageError(`order ${command.orderId} does not exist`, 'order_missing');
        await this.settlement.complete(manager, order);
        faultPoint('worker.order-before-commit');
        return true;
      }),
    );
    if (!fresh) ctx.markDuplicate();
    else this.outboxSignal.committed();
  }
}
