import { productView } from '#domain';
import type { ProductRecord } from '#persistence';

/** The API's Product shape (docs/api.md, "Commerce: catalog and inventory"), shared with the admin API. */
export function presentProduct(p: ProductRecord) {
  return productView(p);
}
