import { DomainError } from '../errors.js';
import { CurrencyMismatchError } from '../ledger/index.js';
import { MAX_AMOUNT } from '../money.js';
import { ProductArchivedError, ProductNotFoundError, type ProductStatus } from './products.js';

export const ORDER_STATUSES = ['reserved', 'completed', 'cancelled', 'failed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Limits of an order (docs/api.md, Commerce: orders). */
export const ORDER_LIMITS = {
  items: { min: 1, max: 100 },
  quantity: { min: 1, max: 1_000 },
} as const;

/** How long a reservation may stay `reserved` before the sweep cancels it (ORDER_RESERVATION_TTL). */
export const ORDER_RESERVATION_TTL_SECONDS = { min: 60, max: 86_400, default: 900 } as const;

export class OrderNotFoundError extends DomainError {
  readonly code = 'order_not_found';
  constructor(readonly orderId: string) {
    super(`Order ${orderId} does not exist.`);
  }
}

export class OrderNotCancellableError extends DomainError {
  readonly code = 'order_not_cancellable';
  constructor(orderId: string, status: OrderStatus) {
    super(`Order ${orderId} is ${status}; only a reserved order can be cancelled.`);
  }
}

export class OrderNotCompletedError extends DomainError {
  readonly code = 'order_not_completed';
  constructor(orderId: string, status: OrderStatus) {
    super(`Order ${orderId} is ${status}; a receipt exists once it is completed.`);
  }
}

export class OrderTotalTooLargeError extends DomainError {
  readonly code = 'amount_overflow';
  constructor(total: bigint) {
    super(`The order's total, ${total}, is more than one payment can carry (${MAX_AMOUNT}).`);
  }
}

const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  reserved: ['completed', 'failed', 'cancelled'],
  completed: [],
  cancelled: [],
  failed: [],
};

/** Whether an order in `from` may become `to`: only a reserved order moves, and only once. */
export function canMoveOrder(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

export function assertCancellable(orderId: string, status: OrderStatus): void {
  if (!canMoveOrder(status, 'cancelled')) throw new OrderNotCancellableError(orderId, status);
}

/** What an order line needs to know of its product when the order is placed. */
export interface OrderableProduct {
  id: string;
  sku: string;
  name: string;
  price: bigint;
  currency: string;
  status: ProductStatus;
}

export interface PricedLine {
  productId: string;
  sku: string;
  name: string;
  quantity: bigint;
  unitPrice: bigint;
  amount: bigint;
}

/**
 * The order's lines at today's prices and its total, in the account's currency. Refuses missing
 * and archived products, products in another currency, and a total larger than one payment.
 * The price is taken now: a later price change does not touch a placed order.
 */
export function priceOrder(
  accountId: string,
  accountCurrency: string,
  lines: { productId: string; quantity: bigint }[],
  products: Map<string, OrderableProduct>,
): { lines: PricedLine[]; total: bigint } {
  const priced = lines.map((line) => {
    const product = products.get(line.productId);
    if (!product) throw new ProductNotFoundError(line.productId);
    if (product.status !== 'active') throw new ProductArchivedError(product.id);
    if (product.currency !== accountCurrency) {
      throw new CurrencyMismatchError(accountCurrency, product.currency, accountId);
    }
    return {
      productId: product.id,
      sku: product.sku,
      name: product.name,
      quantity: line.quantity,
      unitPrice: product.price,
      amount: product.price * line.quantity,
    };
  });
  const total = priced.reduce((sum, line) => sum + line.amount, 0n);
  if (total > MAX_AMOUNT) throw new OrderTotalTooLargeError(total);
  return { lines: priced, total };
}
