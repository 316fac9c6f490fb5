import { stockView } from '#domain';
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
    // Ratings are not taken yet: every product is unrated.
    rating: { average: null, count: 0 },
    purchases: p.stock.sold,
    score: p.score,
    metadata: p.metadata,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}
