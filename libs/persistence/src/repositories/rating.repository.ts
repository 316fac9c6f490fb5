import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { RatingTally } from '#domain';
import { productsWritten } from '../product-cache/product-writes.js';

export interface RatingRecord {
  productId: string;
  accountId: string;
  rating: number;
  comment: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface RatingRow {
  product_id: string;
  account_id: string;
  rating: number;
  comment: string | null;
  created_at: Date;
  updated_at: Date;
}

const toRecord = (r: RatingRow): RatingRecord => ({
  productId: r.product_id,
  accountId: r.account_id,
  rating: Number(r.rating),
  comment: r.comment,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/**
 * Ratings of products, one per account and product. Every write happens under the product's row
 * lock (the caller takes it with `ProductRepository.lockMany`), which is what keeps the
 * product's tally in step with its ratings when two accounts rate it at once.
 */
@Injectable()
export class RatingRepository {
  /** Whether the account has a completed order with the product in it. */
  async hasPurchased(
    manager: EntityManager,
    tenantId: string,
    accountId: string,
    productId: string,
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM order_items i JOIN orders o ON o.id = i.order_id
        WHERE i.product_id = $3 AND o.tenant_id = $1 AND o.account_id = $2 AND o.status = 'completed'
        LIMIT 1`,
      [tenantId, accountId, productId],
    );
    return rows.length > 0;
  }

  /** The account's rating of the product, if any. */
  async find(manager: EntityManager, productId: string, accountId: string): Promise<RatingRecord | null> {
    const rows: RatingRow[] = await manager.query(
      `SELECT * FROM product_ratings WHERE product_id = $1 AND account_id = $2`,
      [productId, accountId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Records the account's rating (replacing its earlier one) and writes the product's new tally,
   * in the caller's transaction.
   */
  async save(
    manager: EntityManager,
    tenantId: string,
    rating: { productId: string; accountId: string; rating: number; comment: string | null },
    tally: RatingTally,
  ): Promise<RatingRecord> {
    const rows: RatingRow[] = await manager.query(
      `INSERT INTO product_ratings (product_id, account_id, tenant_id, rating, comment)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (product_id, account_id)
       DO UPDATE SET rating = excluded.rating, comment = excluded.comment, updated_at = now()
       RETURNING *`,
      [rating.productId, rating.accountId, tenantId, rating.rating, rating.comment],
    );
    await manager.query(`UPDATE products SET rating_count = $2, rating_total = $3 WHERE id = $1`, [
      rating.productId,
      tally.count.toString(),
      tally.total.toString(),
    ]);
    await productsWritten(manager, [{ tenantId, id: rating.productId }]);
    return toRecord(rows[0]);
  }
}
