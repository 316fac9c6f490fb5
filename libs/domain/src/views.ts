import type { OrderStatus } from './commerce/orders.js';
import { stockView, type ProductStatus, type StockCounters } from './commerce/products.js';
import { ratingView, type RatingTally } from './commerce/ratings.js';
import type { HoldStatus } from './holds/holds.js';
import type { TransactionType } from './ledger/ledger-rules.js';
import type { TransactionStatus } from './ledger/transaction-state.js';

// The public shapes of a transaction, a hold, an order and a product: what the APIs answer and what
// the outcome events carry as `data` (docs/api.md). One definition, so they never drift.

/** What a transaction view is made of (a stored transaction has at least this). */
export interface TransactionFacts {
  id: string;
  type: TransactionType;
  status: TransactionStatus;
  amount: bigint;
  currency: string;
  sourceAccountId: string | null;
  destinationAccountId: string | null;
  parentTransactionId: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

/** What a hold view is made of (a stored hold has at least this). */
export interface HoldFacts {
  id: string;
  accountId: string;
  amount: bigint;
  currency: string;
  status: HoldStatus;
  expiresAt: Date;
  createdAt: Date;
}

/** A transaction as the public API and outcome events show it. */
export function transactionView(t: TransactionFacts) {
  return {
    id: t.id,
    type: t.type,
    status: t.status,
    amount: t.amount,
    currency: t.currency,
    sourceAccountId: t.sourceAccountId,
    destinationAccountId: t.destinationAccountId,
    parentTransactionId: t.parentTransactionId,
    description: t.description,
    metadata: t.metadata,
    failure: t.failureCode ? { code: t.failureCode, message: t.failureMessage ?? '' } : null,
    createdAt: t.createdAt.toISOString(),
    completedAt: t.completedAt?.toISOString() ?? null,
  };
}

/** A hold as the public API and hold events show it. */
export function holdView(h: HoldFacts) {
  return {
    id: h.id,
    accountId: h.accountId,
    amount: h.amount,
    currency: h.currency,
    status: h.status,
    expiresAt: h.expiresAt.toISOString(),
    createdAt: h.createdAt.toISOString(),
  };
}

/** What an order view is made of (a stored order has at least this). */
export interface OrderFacts {
  id: string;
  accountId: string;
  status: OrderStatus;
  items: {
    productId: string;
    sku: string;
    name: string;
    quantity: bigint;
    unitPrice: bigint;
    amount: bigint;
  }[];
  total: bigint;
  currency: string;
  holdId: string;
  transactionId: string | null;
  customerEmail: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
  completedAt: Date | null;
}

/** An order as the public API and the order events show it (docs/api.md, "Order"). */
export function orderView(o: OrderFacts) {
  return {
    id: o.id,
    accountId: o.accountId,
    status: o.status,
    items: o.items.map((i) => ({
      productId: i.productId,
      sku: i.sku,
      name: i.name,
      quantity: i.quantity,
      unitPrice: i.unitPrice,
      amount: i.amount,
    })),
    total: o.total,
    currency: o.currency,
    holdId: o.holdId,
    transactionId: o.transactionId,
    customerEmail: o.customerEmail,
    failure: o.failureCode ? { code: o.failureCode, message: o.failureMessage ?? '' } : null,
    metadata: o.metadata,
    createdAt: o.createdAt.toISOString(),
    completedAt: o.completedAt?.toISOString() ?? null,
  };
}

/** What a product view is made of (a stored product has at least this). */
export interface ProductFacts {
  id: string;
  sku: string;
  name: string;
  description: string | null;
  category: string | null;
  price: bigint;
  currency: string;
  status: ProductStatus;
  stock: StockCounters;
  ratings: RatingTally;
  score: number;
  metadata: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** A product as the public API and the operators' API show it (docs/api.md, "Product"). */
export function productView(p: ProductFacts) {
  return {
    id: p.id,
    sku: p.sku,
    name: p.name,
    description: p.description,
    category: p.category,
    price: p.price,
    currency: p.currency,
    status: p.status,
    stock: stockView(p.stock),
    rating: ratingView(p.ratings),
    purchases: p.stock.sold,
    score: p.score,
    metadata: p.metadata,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}
