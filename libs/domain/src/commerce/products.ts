import { DomainError } from '../errors.js';

export const PRODUCT_STATUSES = ['active', 'archived'] as const;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];

/** `GET /v1/products?sort=`: ranking is the default. */
export const PRODUCT_SORTS = ['ranking', 'newest', 'price_asc', 'price_desc'] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

/** Field limits of a product (docs/api.md, Commerce: catalog and inventory). */
export const PRODUCT_LIMITS = {
  sku: { min: 1, max: 64 },
  name: { min: 1, max: 200 },
  description: { max: 5_000 },
  category: { min: 1, max: 100 },
} as const;

/**
 * A product's stock as three counters that only ever move together under a lock (or a version
 * check): `received` units came in (net of corrections), `sold` left with completed orders,
 * `reserved` are held by live orders. The invariant — nothing sold or reserved that was not
 * received — is `reserved + sold ≤ received`, with both at least zero; a database CHECK says the
 * same, so even a buggy caller cannot oversell.
 */
export interface StockCounters {
  received: bigint;
  reserved: bigint;
  sold: bigint;
}

/** As the API shows it: on hand = received − sold; available = on hand − reserved. */
export function stockView(stock: StockCounters) {
  const onHand = stock.received - stock.sold;
  return { onHand, reserved: stock.reserved, available: onHand - stock.reserved };
}

export function availableStock(stock: StockCounters): bigint {
  return stock.received - stock.sold - stock.reserved;
}

export class ProductNotFoundError extends DomainError {
  readonly code = 'product_not_found';
  constructor(readonly productId: string) {
    super(`Product ${productId} does not exist.`);
  }
}

export class SkuTakenError extends DomainError {
  readonly code = 'sku_taken';
  constructor(readonly sku: string) {
    super(`A product with SKU ${sku} exists already.`);
  }
}

export class ProductArchivedError extends DomainError {
  readonly code = 'product_archived';
  constructor(readonly productId: string) {
    super(`Product ${productId} is archived; it cannot be ordered.`);
  }
}

/** One line an order asked more of than there is. */
export interface ShortItem {
  productId: string;
  requested: bigint;
  available: bigint;
}

export class OutOfStockError extends DomainError {
  readonly code = 'out_of_stock';
  constructor(readonly shortItems: ShortItem[]) {
    super(
      shortItems.length === 1
        ? `Product ${shortItems[0].productId} has ${shortItems[0].available} available; ${shortItems[0].requested} were asked for.`
        : `${shortItems.length} products do not have the quantities asked for.`,
    );
  }
}

export class InsufficientStockError extends DomainError {
  readonly code = 'insufficient_stock';
  constructor(productId: string, onHand: bigint, reserved: bigint, delta: bigint) {
    super(
      `Product ${productId} has ${onHand} on hand and ${reserved} reserved; a change of ${delta} would leave less on hand than is reserved.`,
    );
  }
}

/** The counters after a stock correction of `delta` (non-zero) units; refuses to leave less on hand than reserved. */
export function adjustStock(productId: string, stock: StockCounters, delta: bigint): StockCounters {
  if (delta === 0n) throw new RangeError('a stock change is not zero');
  const next = { ...stock, received: stock.received + delta };
  if (next.received - next.sold < next.reserved) {
    throw new InsufficientStockError(productId, stock.received - stock.sold, stock.reserved, delta);
  }
  return next;
}

/**
 * Reserves each line's quantity, all or nothing: every short line is reported at once.
 * `products` are the locked (or version-read) counters by product id.
 */
export function reserveStock(
  products: Map<string, StockCounters>,
  lines: { productId: string; quantity: bigint }[],
): Map<string, StockCounters> {
  const short: ShortItem[] = [];
  const next = new Map<string, StockCounters>();
  for (const line of lines) {
    const stock = next.get(line.productId) ?? products.get(line.productId);
    if (!stock) throw new ProductNotFoundError(line.productId);
    const available = availableStock(stock);
    if (line.quantity > available)
      short.push({ productId: line.productId, requested: line.quantity, available });
    else next.set(line.productId, { ...stock, reserved: stock.reserved + line.quantity });
  }
  if (short.length > 0) throw new OutOfStockError(short);
  return next;
}

/** A live order's reservation given back (cancelled, failed, or expired): reserved goes down. */
export function releaseStock(stock: StockCounters, quantity: bigint): StockCounters {
  if (quantity > stock.reserved) throw new RangeError(`releasing ${quantity} of ${stock.reserved} reserved`);
  return { ...stock, reserved: stock.reserved - quantity };
}

/** A completed order's reservation becomes a sale: reserved → sold. */
export function sellReserved(stock: StockCounters, quantity: bigint): StockCounters {
  if (quantity > stock.reserved) throw new RangeError(`selling ${quantity} of ${stock.reserved} reserved`);
  return { ...stock, reserved: stock.reserved - quantity, sold: stock.sold + quantity };
}
