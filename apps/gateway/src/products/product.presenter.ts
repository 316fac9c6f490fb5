import { ratingView, stockView } from '#domain';
import type { ProductRecord } from '#persistence';

/** The API's Product shape (docs/api.md, "Commerce: catalog and inventory"). */
export function presentProduct(p: ProductRecord) {
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
