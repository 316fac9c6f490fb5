import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AccountFrozenError,
  AccountNotFoundError,
  OutOfStockError,
  ProductNotFoundError,
  newId,
  priceOrder,
  reserveStock,
} from '#domain';
import { ApiError } from '#http';
import { Ledger } from '#ledger';
import { Commands } from '#messaging';
import { AccountRepository, OrderRepository, ProductRepository, type OrderRecord } from '#persistence';

export interface PlaceOrderInput {
  accountId: string;
  items: { productId: string; quantity: bigint }[];
  customerEmail: string | null;
  metadata: Record<string, unknown>;
}

/**
 * Places an order in the caller's database transaction, all or nothing: the products locked in
 * id order, the lines priced, the stock reserved (the table's CHECK backs the rule), the wallet
 * hold for the total placed by the ledger, and the order written with the command that completes
 * it. Lock order: products, then (the ledger's) the account.
 */
@Injectable()
export class PlaceOrder {
  constructor(
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(ProductRepository) private readonly products: ProductRepository,
    @Inject(OrderRepository) private readonly orders: OrderRepository,
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject('ORDER_OPTIONS') private readonly options: { reservationSeconds: number },
  ) {}

  async execute(
    manager: EntityManager,
    tenantId: string,
    input: PlaceOrderInput,
    correlationId: string | null,
  ): Promise<OrderRecord> {
    const account = await this.accounts.find(manager, tenantId, input.accountId);
    if (!account) throw new AccountNotFoundError(input.accountId);
    if (account.status === 'frozen') throw new AccountFrozenError(account.id);
    const locked = await this.products.lockMany(
      manager,
      tenantId,
      input.items.map((i) => i.productId),
    );
    const missing = input.items.find((i) => !locked.has(i.productId));
    if (missing) throw new ProductNotFoundError(missing.productId);
    const { lines, total } = priceOrder(account.id, account.currency, input.items, locked);
    let reserved;
    try {
      reserved = reserveStock(new Map([...locked].map(([id, p]) => [id, p.stock])), input.items);
    } catch (error) {
      if (!(error instanceof OutOfStockError)) throw error;
      throw new ApiError(
        409,
        'out_of_stock',
        error.message,
        error.shortItems.map((short) => ({
          field: `items.${input.items.findIndex((i) => i.productId === short.productId)}.quantity`,
          message: `${short.available} of ${short.productId} available, ${short.requested} asked for`,
        })),
      );
    }
    await this.products.setStock(manager, reserved);
    const hold = await this.ledger.apply(manager, {
      kind: 'reserve',
      hold: {
        tenantId,
        accountId: account.id,
        amount: total,
        currency: account.currency,
        // The order's sweep ends a stale reservation first; the hold outlives it by an hour so the
        // hold's own expiry never pulls the money from under a reserved order.
        expiresInSeconds: this.options.reservationSeconds + 3600,
        correlationId,
      },
    });
    const id = newId('ord');
    return this.orders.insert(
      manager,
      {
        id,
        tenantId,
        accountId: account.id,
        lines,
        total,
        currency: account.currency,
        holdId: hold.id,
        customerEmail: input.customerEmail,
        metadata: input.metadata,
        correlationId,
        reservedForSeconds: this.options.reservationSeconds,
      },
      [Commands.orderRequested({ orderId: id, tenantId }, correlationId)],
    );
  }
}
