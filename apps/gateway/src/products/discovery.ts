import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  NEIGHBOURS_KEPT,
  NeighbourSets,
  PairRepository,
  ProductRepository,
  type ProductRecord,
} from '#persistence';

export const NEIGHBOUR_SETS = Symbol('NEIGHBOUR_SETS');

/** Ranked by the number given, then by score, then newest (the catalog's own tie-break). */
function ranked<T extends { product: ProductRecord; n: bigint }>(items: T[], limit: number): T[] {
  return items
    .sort(
      (a, b) =>
        (b.n > a.n ? 1 : b.n < a.n ? -1 : 0) ||
        b.product.score - a.product.score ||
        b.product.createdAt.getTime() - a.product.createdAt.getTime() ||
        (b.product.id > a.product.id ? 1 : -1),
    )
    .slice(0, limit);
}

/**
 * "Bought together" and "recommended for you" (docs/api.md, Commerce: ratings and discovery).
 * A product's neighbours come from Redis (the job's sorted sets) and from PostgreSQL when Redis
 * has no set for it or cannot answer; recommendations sum counts over the account's purchases,
 * which is one indexed query in PostgreSQL.
 */
@Injectable()
export class Discovery implements OnModuleDestroy {
  private readonly pairs = new PairRepository();

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(ProductRepository) private readonly products: ProductRepository,
    @Inject(NEIGHBOUR_SETS) private readonly sets: NeighbourSets | null,
  ) {}

  async alsoBought(tenantId: string, productId: string, limit: number) {
    const manager = this.dataSource.manager;
    const neighbours =
      (await this.sets?.read(productId, NEIGHBOURS_KEPT)) ??
      (await this.pairs.neighbours(manager, tenantId, productId, NEIGHBOURS_KEPT));
    const products = await this.products.activeScored(
      manager,
      tenantId,
      neighbours.map((n) => n.productId),
    );
    return ranked(
      neighbours.flatMap((n) => {
        const product = products.get(n.productId);
        return product ? [{ product, n: n.count }] : [];
      }),
      limit,
    );
  }

  async recommendations(tenantId: string, accountId: string, limit: number) {
    const manager = this.dataSource.manager;
    const strengths = await this.pairs.recommendations(manager, tenantId, accountId, NEIGHBOURS_KEPT);
    const products = await this.products.activeScored(
      manager,
      tenantId,
      strengths.map((s) => s.productId),
    );
    return ranked(
      strengths.flatMap((s) => {
        const product = products.get(s.productId);
        return product ? [{ product, n: s.strength }] : [];
      }),
      limit,
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.sets?.close();
  }
}
