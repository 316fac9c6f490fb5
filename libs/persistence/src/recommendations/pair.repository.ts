import type { EntityManager } from 'typeorm';

/** A product's neighbour: another product and how many completed orders held both. */
export interface Neighbour {
  productId: string;
  count: bigint;
}

/** The neighbours of one product, as the job hands them to Redis. */
export interface NeighbourList {
  tenantId: string;
  productId: string;
  neighbours: Neighbour[];
}

/** A recommended product and the summed co-occurrence behind it. */
export interface Recommendation {
  productId: string;
  strength: bigint;
}

/**
 * The co-occurrence counts in PostgreSQL: written by the job, read when Redis cannot answer, and
 * the only source of recommendations for an account.
 */
export class PairRepository {
  /**
   * Counts up to `limit` completed orders not yet counted (the oldest first), marking them counted
   * and their products' Redis copies behind, in the caller's transaction. Answers how many orders.
   * Rows are claimed with SKIP LOCKED; the job also holds an advisory lock, so one runner counts.
   */
  async countBatch(manager: EntityManager, limit: number): Promise<number> {
    const [{ orders }]: { orders: number }[] = await manager.query(
      `WITH batch AS (
         SELECT id, tenant_id FROM orders
          WHERE status = 'completed' AND paired_at IS NULL
          ORDER BY completed_at, id LIMIT $1 FOR UPDATE SKIP LOCKED
       ), pairs AS (
         SELECT b.tenant_id, a.product_id, c.product_id AS other_id, count(*) AS n
           FROM batch b
           JOIN order_items a ON a.order_id = b.id
           JOIN order_items c ON c.order_id = b.id AND c.product_id <> a.product_id
          GROUP BY b.tenant_id, a.product_id, c.product_id
       ), counted AS (
         INSERT INTO product_pairs AS pp (product_id, other_id, tenant_id, count)
         SELECT product_id, other_id, tenant_id, n FROM pairs
         ON CONFLICT (product_id, other_id) DO UPDATE SET count = pp.count + excluded.count
         RETURNING pp.product_id, pp.tenant_id
       ), behind AS (
         INSERT INTO product_pairs_unsynced (product_id, tenant_id)
         SELECT DISTINCT product_id, tenant_id FROM counted
         ON CONFLICT (product_id) DO NOTHING
       ), marked AS (
         UPDATE orders SET paired_at = now() WHERE id IN (SELECT id FROM batch) RETURNING 1
       )
       SELECT count(*)::int AS orders FROM marked`,
      [limit],
    );
    return orders;
  }

  /** Up to `limit` products whose Redis copy is behind, each with its top `k` neighbours. */
  async unsynced(manager: EntityManager, limit: number, k: number): Promise<NeighbourList[]> {
    const rows: { product_id: string; tenant_id: string; other_id: string | null; count: string | null }[] =
      await manager.query(
        `SELECT u.product_id, u.tenant_id, n.other_id, n.count
           FROM (SELECT product_id, tenant_id FROM product_pairs_unsynced ORDER BY product_id LIMIT $1) u
           LEFT JOIN LATERAL (
             SELECT other_id, count FROM product_pairs WHERE product_id = u.product_id
              ORDER BY count DESC, other_id DESC LIMIT $2
           ) n ON true
          ORDER BY u.product_id, n.count DESC, n.other_id DESC`,
        [limit, k],
      );
    const lists = new Map<string, NeighbourList>();
    for (const r of rows) {
      let list = lists.get(r.product_id);
      if (!list)
        lists.set(r.product_id, (list = { tenantId: r.tenant_id, productId: r.product_id, neighbours: [] }));
      if (r.other_id !== null) list.neighbours.push({ productId: r.other_id, count: BigInt(r.count!) });
    }
    return [...lists.values()];
  }

  /** Marks these products' Redis copies current. */
  async synced(manager: EntityManager, productIds: string[]): Promise<void> {
    await manager.query(`DELETE FROM product_pairs_unsynced WHERE product_id = ANY($1::text[])`, [
      productIds,
    ]);
  }

  /** The product's neighbours by count (ties: any order; the caller ranks ties by score). */
  async neighbours(
    manager: EntityManager,
    tenantId: string,
    productId: string,
    k: number,
  ): Promise<Neighbour[]> {
    const rows: { other_id: string; count: string }[] = await manager.query(
      `SELECT other_id, count FROM product_pairs WHERE product_id = $1 AND tenant_id = $2
        ORDER BY count DESC, other_id DESC LIMIT $3`,
      [productId, tenantId, k],
    );
    return rows.map((r) => ({ productId: r.other_id, count: BigInt(r.count) }));
  }

  /**
   * Products the account has not bought, by the summed co-occurrence with what it has bought
   * (active ones only, strongest first; the caller ranks ties by score).
   */
  async recommendations(
    manager: EntityManager,
    tenantId: string,
    accountId: string,
    k: number,
  ): Promise<Recommendation[]> {
    const rows: { other_id: string; strength: string }[] = await manager.query(
      `WITH bought AS (
         SELECT DISTINCT i.product_id FROM orders o JOIN order_items i ON i.order_id = o.id
          WHERE o.tenant_id = $1 AND o.account_id = $2 AND o.status = 'completed'
       )
       SELECT pp.other_id, sum(pp.count)::bigint AS strength
         FROM product_pairs pp JOIN products p ON p.id = pp.other_id AND p.status = 'active'
        WHERE pp.product_id IN (SELECT product_id FROM bought)
          AND pp.other_id NOT IN (SELECT product_id FROM bought)
        GROUP BY pp.other_id
        ORDER BY strength DESC, pp.other_id
        LIMIT $3`,
      [tenantId, accountId, k],
    );
    return rows.map((r) => ({ productId: r.other_id, strength: BigInt(r.strength) }));
  }

  /**
   * Forgets every count, so the next runs count every completed order again (a full rebuild).
   * Products that had neighbours are marked behind, so Redis loses them too.
   */
  async reset(manager: EntityManager): Promise<void> {
    await manager.query(
      `INSERT INTO product_pairs_unsynced (product_id, tenant_id)
       SELECT DISTINCT product_id, tenant_id FROM product_pairs ON CONFLICT (product_id) DO NOTHING`,
    );
    await manager.query(`DELETE FROM product_pairs`);
    await manager.query(`UPDATE orders SET paired_at = NULL WHERE paired_at IS NOT NULL`);
  }
}
