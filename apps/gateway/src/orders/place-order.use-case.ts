import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { EntityManager } from 'typeorm';
import {
  checkParticipant,
  AccountNotFoundError,
  OutOfStockError,
  ProductNotFoundError,
  ORDER_LIMITS,
  hasIdPrefix,
  newId,
  priceOrder,
  reserveStock,
  type StockCounters,
} from '#domain';
import { ApiError } from '#http';
import { Ledger } from '#ledger';
import { Commands } from '#messaging';
import { AccountRepository, Gate, OrderRepository, type OrderRecord, type ProductRecord } from '#persistence';
import { INVENTORY_STRATEGY, type InventoryStrategy } from './inventory-locking.js';

export interface PlaceOrderInput {
  accountId: string;
  items: { productId: string; quantity: bigint }[];
  customerEmail: string | null;
  metadata: Record<string, unknown>;
}

/** The products' counters with the items reserved, or 409 out_of_stock naming each short line. */
function reserve(
  products: Map<string, ProductRecord>,
  items: PlaceOrderInput['items'],
): Map<string, StockCounters> {
  try {
    return reserveStock(new Map([...products].map(([id, p]) => [id, p.stock])), items);
  } catch (error) {
    if (!(error instanceof OutOfStockError)) throw error;
    throw new ApiError(
      409,
      'out_of_stock',
      error.message,
      error.shortItems.map((short) => ({
        field: `items.${items.findIndex((i) => i.productId === short.productId)}.quantity`,
        message: `${short.available} of ${short.productId} available, ${short.requested} asked for`,
      })),
    );
  }
}

/**
 * Places an order in the caller's database transaction, all or nothing: the products read and the
 * stock reserved as the configured InventoryStrategy does it (INVENTORY_LOCKING; the table's CHECK
 * backs the rule whatever it is), the lines priced, the wallet hold for the total placed by the
 * ledger, and the order written with the command that completes it. Lock order: products, then
 * (the ledger's) the account. The caller runs the transaction inside `guard`, which takes the
 * strategy's locks that live outside the database.
 */
@Injectable()
export class PlaceOrder {
  constructor(
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(OrderRepository) private readonly orders: OrderRepository,
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject('ORDER_OPTIONS') private readonly options: { reservationSeconds: number },
    @Inject(INVENTORY_STRATEGY) private readonly inventory: InventoryStrategy,
    @Inject('ORDER_PLACEMENT_GATE') private readonly gate: Gate,
  ) {}

  /**
   * Runs `placement` (the transaction calling `execute`) once a place at the gate is free
   * (ORDER_PLACEMENT_CONCURRENCY: orders waiting on row locks hold connections, and accepts need
   * them too), then under the strategy's outside locks — so no Redis lock is held while queued.
   */
  guard<T>(productIds: string[], placement: () => Promise<T>): Promise<T> {
    return this.gate.run(() => this.inventory.around(productIds, placement));
  }

  async execute(
    manager: EntityManager,
    tenantId: string,
    input: PlaceOrderInput,
    correlationId: string | null,
  ): Promise<OrderRecord> {
    const account = await this.accounts.find(manager, tenantId, input.accountId);
    if (!account) throw new AccountNotFoundError(input.accountId);
    checkParticipant(account, account.currency);
    const { lines, total } = await this.inventory.attempt(manager, async () => {
      const products = await this.inventory.read(
        manager,
        tenantId,
        input.items.map((i) => i.productId),
      );
      const missing = input.items.find((i) => !products.has(i.productId));
      if (missing) throw new ProductNotFoundError(missing.productId);
      const priced = priceOrder(account.id, account.currency, input.items, products);
      await this.inventory.write(manager, products, reserve(products, input.items));
      return priced;
    });
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

/**
 * Wraps POST /v1/orders, transaction and all, in PlaceOrder's `guard` (the distributed strategy's
 * Redis locks are taken before any database work). It runs before validation, so it reads the
 * product ids defensively; a body the route then refuses has only queued for its locks.
 */
@Injectable()
export class InventoryLocks implements NestInterceptor {
  constructor(@Inject(PlaceOrder) private readonly placeOrder: PlaceOrder) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ids = productIdsOf(context.switchToHttp().getRequest<{ body?: unknown }>().body);
    return from(this.placeOrder.guard(ids, () => lastValueFrom(next.handle(), { defaultValue: undefined })));
  }
}

function productIdsOf(body: unknown): string[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items) || items.length > ORDER_LIMITS.items.max) return [];
  return items
    .map((i) => (i as { productId?: unknown } | null)?.productId)
    .filter((id): id is string => typeof id === 'string' && hasIdPrefix(id, 'prod'));
}
