import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OrderSettlement } from '#ledger';
import { OrderRepository, OutboxSignal } from '#persistence';
import { Periodic } from '../scheduling/periodic.js';

export interface OrderSweepOptions {
  intervalMs: number;
}

/**
 * Cancels orders left `reserved` past their reservation (ORDER_RESERVATION_TTL): each is claimed
 * (FOR UPDATE SKIP LOCKED: with several workers, each order is released by exactly one, and an
 * order being completed or cancelled right now is skipped) and released in a database transaction
 * of its own, so its locks (order, products, hold, account) are taken in the one global order.
 */
@Injectable()
export class OrderReservationSweep extends Periodic {
  protected readonly intervalMs: number;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OrderRepository) private readonly orders: OrderRepository,
    @Inject(OrderSettlement) private readonly settlement: OrderSettlement,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject('ORDER_SWEEP_OPTIONS') options: OrderSweepOptions,
  ) {
    super();
    this.intervalMs = options.intervalMs;
  }

  /** Cancels every order whose reservation ran out; answers how many. */
  async sweep(): Promise<number> {
    let total = 0;
    while (!this.stopped && (await this.releaseOne())) total++;
    if (total > 0) this.log.log(`cancelled ${total} order(s) past their reservation`);
    return total;
  }

  private async releaseOne(): Promise<boolean> {
    const released = await this.dataSource.transaction(async (manager) => {
      const [id] = await this.orders.claimExpired(manager, 1);
      if (!id) return false;
      const order = (await this.orders.lock(manager, id))!;
      await this.settlement.release(manager, order, { status: 'cancelled' });
      return true;
    });
    if (released) this.outboxSignal.committed();
    return released;
  }
}
