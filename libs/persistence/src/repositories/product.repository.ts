import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  ProductNotFoundError,
  SkuTakenError,
  adjustStock,
  newId,
  type ProductFacts,
  type ProductSort,
  type ProductStatus,
  type StockCounters,
} from '#domain';
import { productsWritten } from '../product-cache/product-writes.js';

/** A stored product: what the API shows of it (`ProductFacts`, the score as of the read) and more. */
export interface ProductRecord extends ProductFacts {
  tenantId: string;
  version: bigint;
  /** Exact sort keys as PostgreSQL has them (microseconds, four decimals), for cursors. */
  keys: { createdAt: string; score: string };
}

interface ProductRow {
  id: string;
  tenant_id: string;
  sku: string;
  name: string;
  description: string | null;
  category: string | null;
  price: string;
  currency: string;
  status: ProductStatus;
  metadata: Record<string, unknown>;
  stock_received: string;
  stock_reserved: string;
  stock_sold: string;
  rating_count: string;
  rating_total: string;
  version: string;
  score: string;
  created_at: Date;
  created_at_key: string;
  updated_at: Date;
}

const COLUMNS = `p.id, p.tenant_id, p.sku, p.name, p.description, p.category, p.price, p.currency, p.status,
  p.metadata, p.stock_received, p.stock_reserved, p.stock_sold, p.rating_count, p.rating_total, p.version,
  p.created_at,
  p.created_at::text AS created_at_key, p.updated_at`;

/**
 * The ranking score of docs/api.md, as SQL over `p` at the instant `$asOf`:
 * 0.5 × popularity (units sold ÷ the most sold in the tenant's active catalog, 0 when nothing
 * sold) + 0.3 × rating (the exact average ÷ 5, from the tally kept on the row; 0 when unrated)
 * + 0.2 × recency (1 − age ÷ 30 days, not below 0), rounded to four decimals. `best` is the
 * tenant's top seller.
 */
const SCORE = (asOf: string, best: string) => `round((
    0.5 * CASE WHEN ${best} > 0 THEN p.stock_sold::numeric / ${best} ELSE 0 END
  + 0.3 * CASE WHEN p.rating_count > 0 THEN p.rating_total::numeric / (5 * p.rating_count) ELSE 0 END
  + 0.2 * greatest(0, 1 - extract(epoch FROM (${asOf} - p.created_at)) / 2592000)
)::numeric, 4)`;

const BEST_SELLER = `(SELECT coalesce(max(stock_sold), 0) FROM products
  WHERE tenant_id = p.tenant_id AND status = 'active')`;

/** The rows an UPDATE … RETURNING gave back (TypeORM answers `[rows, count]` for an UPDATE). */
function updated(result: unknown): ProductRow[] {
  const [first] = result as unknown[];
  return Array.isArray(first) ? (first as ProductRow[]) : (result as ProductRow[]);
}

function toRecord(row: ProductRow): ProductRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    category: row.category,
    price: BigInt(row.price),
    currency: row.currency,
    status: row.status,
    metadata: row.metadata,
    stock: {
      received: BigInt(row.stock_received),
      reserved: BigInt(row.stock_reserved),
      sold: BigInt(row.stock_sold),
    },
    ratings: { count: BigInt(row.rating_count), total: BigInt(row.rating_total) },
    version: BigInt(row.version),
    score: Number(row.score),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    keys: { createdAt: row.created_at_key, score: row.score },
  };
}

export interface NewProduct {
  sku: string;
  name: string;
  description: string | null;
  category: string | null;
  price: bigint;
  currency: string;
  stock: bigint;
  metadata: Record<string, unknown>;
}

export interface ProductChanges {
  name?: string;
  description?: string | null;
  category?: string | null;
  price?: bigint;
  status?: ProductStatus;
  metadata?: Record<string, unknown>;
}

/** Where a page of a list ends, in the terms of its sort; the cursor carries it. */
export type ProductPosition =
  | { sort: 'ranking'; asOf: string; score: string; createdAt: string; id: string }
  | { sort: 'newest'; createdAt: string; id: string }
  | { sort: 'price_asc' | 'price_desc'; price: string; id: string };

export interface ProductListQuery {
  status: ProductStatus;
  category?: string;
  /** Words to search for (any order, stemmed): PostgreSQL's websearch syntax. */
  q?: string;
  sort: ProductSort;
  after?: ProductPosition;
  limit: number;
}

/** The operators' search: across tenants unless one is named, newest first (by id), paged by `before`. */
export interface ProductSearch {
  tenantId?: string;
  /** Words to search for, as `ProductListQuery.q`. */
  q?: string;
  category?: string;
  status?: ProductStatus;
  /** Products older than this id. */
  before?: string;
  limit: number;
}

/**
 * A tenant's catalog. Stock moves only under the product's row lock (`FOR UPDATE`), and the
 * table's CHECK refuses any change that would leave more reserved and sold than received.
 */
@Injectable()
export class ProductRepository {
  /** A new product; its SKU must be new to the tenant (409 sku_taken). */
  async insert(manager: EntityManager, tenantId: string, p: NewProduct): Promise<ProductRecord> {
    const rows: ProductRow[] = await manager.query(
      `INSERT INTO products AS p (id, tenant_id, sku, name, description, category, price, currency,
         stock_received, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (tenant_id, sku) DO NOTHING
       RETURNING ${COLUMNS}, ${SCORE('now()', BEST_SELLER)} AS score`,
      [
        newId('prod'),
        tenantId,
        p.sku,
        p.name,
        p.description,
        p.category,
        p.price.toString(),
        p.currency,
        p.stock.toString(),
        JSON.stringify(p.metadata),
      ],
    );
    if (!rows[0]) throw new SkuTakenError(p.sku);
    await productsWritten(manager, [{ tenantId, id: rows[0].id }]);
    return toRecord(rows[0]);
  }

  async find(manager: EntityManager, tenantId: string, id: string): Promise<ProductRecord | null> {
    const rows: ProductRow[] = await manager.query(
      `SELECT ${COLUMNS}, ${SCORE('now()', BEST_SELLER)} AS score
         FROM products p WHERE p.id = $1 AND p.tenant_id = $2`,
      [id, tenantId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Changes the given fields (a price applies to orders placed afterwards). */
  async update(
    manager: EntityManager,
    tenantId: string,
    id: string,
    changes: ProductChanges,
  ): Promise<ProductRecord> {
    const sets: string[] = [];
    const params: unknown[] = [id, tenantId];
    const set = (column: string, value: unknown) => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (changes.name !== undefined) set('name', changes.name);
    if (changes.description !== undefined) set('description', changes.description);
    if (changes.category !== undefined) set('category', changes.category);
    if (changes.price !== undefined) set('price', changes.price.toString());
    if (changes.status !== undefined) set('status', changes.status);
    if (changes.metadata !== undefined) set('metadata', JSON.stringify(changes.metadata));
    const rows = updated(
      await manager.query(
        `UPDATE products p SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')}
        WHERE p.id = $1 AND p.tenant_id = $2
        RETURNING ${COLUMNS}, ${SCORE('now()', BEST_SELLER)} AS score`,
        params,
      ),
    );
    if (!rows[0]) throw new ProductNotFoundError(id);
    await productsWritten(manager, [{ tenantId, id }]);
    return toRecord(rows[0]);
  }

  /**
   * Receives (`delta` > 0) or writes off (`delta` < 0) units under the product's row lock; on hand
   * may not drop below what live orders reserve (409 insufficient_stock).
   */
  async adjustStock(
    manager: EntityManager,
    tenantId: string,
    id: string,
    delta: bigint,
  ): Promise<ProductRecord> {
    const locked: ProductRow[] = await manager.query(
      `SELECT ${COLUMNS}, 0 AS score FROM products p WHERE p.id = $1 AND p.tenant_id = $2 FOR UPDATE`,
      [id, tenantId],
    );
    if (!locked[0]) throw new ProductNotFoundError(id);
    const next = adjustStock(id, toRecord(locked[0]).stock, delta);
    const rows = updated(
      await manager.query(
        `UPDATE products p SET stock_received = $3, version = version + 1, updated_at = now()
        WHERE p.id = $1 AND p.tenant_id = $2
        RETURNING ${COLUMNS}, ${SCORE('now()', BEST_SELLER)} AS score`,
        [id, tenantId, next.received.toString()],
      ),
    );
    await productsWritten(manager, [{ tenantId, id }]);
    return toRecord(rows[0]);
  }

  /** The tenant's products with these ids, locked (`FOR UPDATE`) in id order; missing ones are absent. */
  async lockMany(
    manager: EntityManager,
    tenantId: string,
    ids: string[],
  ): Promise<Map<string, ProductRecord>> {
    const rows: ProductRow[] = await manager.query(
      `SELECT ${COLUMNS}, 0 AS score FROM products p
        WHERE p.tenant_id = $1 AND p.id = ANY($2::text[]) ORDER BY p.id FOR UPDATE`,
      [tenantId, [...new Set(ids)]],
    );
    return new Map(rows.map((r) => [r.id, toRecord(r)]));
  }

  /** The tenant's active products with these ids, scored as a list would score them now. */
  async activeScored(
    manager: EntityManager,
    tenantId: string,
    ids: string[],
  ): Promise<Map<string, ProductRecord>> {
    if (ids.length === 0) return new Map();
    const rows: ProductRow[] = await manager.query(
      `SELECT ${COLUMNS}, ${SCORE('now()', 'best.sold')} AS score
         FROM products p,
              (SELECT coalesce(max(stock_sold), 0) AS sold FROM products
                WHERE tenant_id = $1 AND status = 'active') best
        WHERE p.tenant_id = $1 AND p.id = ANY($2::text[]) AND p.status = 'active'`,
      [tenantId, [...new Set(ids)]],
    );
    return new Map(rows.map((r) => [r.id, toRecord(r)]));
  }

  /** The tenant's products with these ids as last committed, without locks; missing ones are absent. */
  async readMany(
    manager: EntityManager,
    tenantId: string,
    ids: string[],
  ): Promise<Map<string, ProductRecord>> {
    const rows: ProductRow[] = await manager.query(
      `SELECT ${COLUMNS}, 0 AS score FROM products p WHERE p.tenant_id = $1 AND p.id = ANY($2::text[])`,
      [tenantId, [...new Set(ids)]],
    );
    return new Map(rows.map((r) => [r.id, toRecord(r)]));
  }

  /**
   * Writes each product's counters only if its version is still the one read, in id order (so two
   * writers wait on rows in the same order), stopping at the first that moved: answers its id, or
   * null when every row was written. The caller undoes the rows already written.
   */
  async setStockIfVersion(
    manager: EntityManager,
    stock: Map<string, { counters: StockCounters; version: bigint }>,
  ): Promise<string | null> {
    for (const id of [...stock.keys()].sort()) {
      const { counters, version } = stock.get(id)!;
      const rows = updated(
        await manager.query(
          `UPDATE products SET stock_received = $2, stock_reserved = $3, stock_sold = $4,
                  version = version + 1, updated_at = now()
            WHERE id = $1 AND version = $5 RETURNING id, tenant_id`,
          [
            id,
            counters.received.toString(),
            counters.reserved.toString(),
            counters.sold.toString(),
            version.toString(),
          ],
        ),
      );
      if (rows.length === 0) return id;
      await productsWritten(manager, [{ tenantId: rows[0].tenant_id, id }]);
    }
    return null;
  }

  /**
   * Writes the counters of products the caller holds locked together with the fencing token of its
   * distributed lock, refusing any whose `lock_fence` already has this token or a later one (the
   * caller's lock expired and another holder wrote). Answers such a product's id, or null.
   */
  async setStockIfFence(
    manager: EntityManager,
    stock: Map<string, { counters: StockCounters; fence: bigint }>,
  ): Promise<string | null> {
    const ids = [...stock.keys()];
    const rows: { id: string; tenant_id: string }[] = updated(
      await manager.query(
        `UPDATE products p SET stock_received = s.received, stock_reserved = s.reserved, stock_sold = s.sold,
                lock_fence = s.fence, version = p.version + 1, updated_at = now()
           FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
                AS s(id, received, reserved, sold, fence)
          WHERE p.id = s.id AND p.lock_fence < s.fence
          RETURNING p.id, p.tenant_id`,
        [
          ids,
          ids.map((id) => stock.get(id)!.counters.received.toString()),
          ids.map((id) => stock.get(id)!.counters.reserved.toString()),
          ids.map((id) => stock.get(id)!.counters.sold.toString()),
          ids.map((id) => stock.get(id)!.fence.toString()),
        ],
      ),
    );
    await productsWritten(
      manager,
      rows.map((r) => ({ tenantId: r.tenant_id, id: r.id })),
    );
    const written = new Set(rows.map((r) => r.id));
    return ids.find((id) => !written.has(id)) ?? null;
  }

  /** Writes the stock counters of products the caller holds locked, in one statement. */
  async setStock(manager: EntityManager, stock: Map<string, StockCounters>): Promise<void> {
    if (stock.size === 0) return;
    const ids = [...stock.keys()];
    const rows: { id: string; tenant_id: string }[] = updated(
      await manager.query(
        `UPDATE products p SET stock_received = s.received, stock_reserved = s.reserved, stock_sold = s.sold,
              version = p.version + 1, updated_at = now()
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[]) AS s(id, received, reserved, sold)
        WHERE p.id = s.id
        RETURNING p.id, p.tenant_id`,
        [
          ids,
          ids.map((id) => stock.get(id)!.received.toString()),
          ids.map((id) => stock.get(id)!.reserved.toString()),
          ids.map((id) => stock.get(id)!.sold.toString()),
        ],
      ),
    );
    await productsWritten(
      manager,
      rows.map((r) => ({ tenantId: r.tenant_id, id: r.id })),
    );
  }

  /** Products of any tenant by id (the operators' read), with the score their tenant's list shows. */
  async findAny(manager: EntityManager, id: string): Promise<ProductRecord | null> {
    const rows: ProductRow[] = await manager.query(
      `SELECT ${COLUMNS}, ${SCORE('now()', BEST_SELLER)} AS score FROM products p WHERE p.id = $1`,
      [id],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** The operators' search (same text search and score as `list`), newest first by id. */
  async search(manager: EntityManager, q: ProductSearch): Promise<ProductRecord[]> {
    const rows: ProductRow[] = await manager.query(
      `SELECT ${COLUMNS}, ${SCORE('now()', BEST_SELLER)} AS score
         FROM products p
        WHERE ($1::text IS NULL OR p.tenant_id = $1)
          AND ($2::text IS NULL OR p.search @@ websearch_to_tsquery('english', $2))
          AND ($3::text IS NULL OR p.category = $3)
          AND ($4::text IS NULL OR p.status = $4)
          AND ($5::text IS NULL OR p.id < $5)
        ORDER BY p.id DESC LIMIT $6`,
      [q.tenantId ?? null, q.q ?? null, q.category ?? null, q.status ?? null, q.before ?? null, q.limit],
    );
    return rows.map(toRecord);
  }

  /**
   * A page of the catalog in the order `sort` names, after `query.after`. Every order ends with
   * the id, so equal prices, times or scores still page without gaps or repeats; a ranking is
   * computed as of the instant its first page was (the cursor keeps it), so recency does not move
   * products between the pages of one listing.
   */
  async list(
    manager: EntityManager,
    tenantId: string,
    query: ProductListQuery,
  ): Promise<{ rows: ProductRecord[]; asOf: string }> {
    const asOf = query.after?.sort === 'ranking' ? query.after.asOf : new Date().toISOString();
    const params: unknown[] = [tenantId, query.status, asOf];
    const where = ['p.tenant_id = $1', 'p.status = $2'];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.category !== undefined) where.push(`p.category = ${param(query.category)}`);
    if (query.q !== undefined) where.push(`p.search @@ websearch_to_tsquery('english', ${param(query.q)})`);
    const score = SCORE('$3::timestamptz', 'best.sold');
    let order: string;
    const after = query.after;
    switch (query.sort) {
      case 'ranking':
        order = 'score DESC, p.created_at DESC, p.id DESC';
        if (after?.sort === 'ranking') {
          where.push(
            `(${score}, p.created_at, p.id) < (${param(after.score)}::numeric, ${param(after.createdAt)}::timestamptz, ${param(after.id)})`,
          );
        }
        break;
      case 'newest':
        order = 'p.created_at DESC, p.id DESC';
        if (after?.sort === 'newest') {
          where.push(`(p.created_at, p.id) < (${param(after.createdAt)}::timestamptz, ${param(after.id)})`);
        }
        break;
      case 'price_asc':
        order = 'p.price ASC, p.id ASC';
        if (after?.sort === 'price_asc') {
          where.push(`(p.price, p.id) > (${param(after.price)}::bigint, ${param(after.id)})`);
        }
        break;
      case 'price_desc':
        order = 'p.price DESC, p.id DESC';
        if (after?.sort === 'price_desc') {
          where.push(`(p.price, p.id) < (${param(after.price)}::bigint, ${param(after.id)})`);
        }
        break;
    }
    const rows: ProductRow[] = await manager.query(
      `SELECT ${COLUMNS}, ${score} AS score
         FROM products p,
              (SELECT coalesce(max(stock_sold), 0) AS sold FROM products
                WHERE tenant_id = $1 AND status = 'active') best
        WHERE ${where.join(' AND ')}
        ORDER BY ${order}
        LIMIT ${param(query.limit)}`,
      params,
    );
    return { rows: rows.map(toRecord), asOf };
  }
}

/** Where `row` sits in a list sorted by `sort` (for the next page's cursor). */
export function productPosition(sort: ProductSort, row: ProductRecord, asOf: string): ProductPosition {
  switch (sort) {
    case 'ranking':
      return {
        sort,
        asOf,
        score: row.keys.score,
        createdAt: row.keys.createdAt,
        id: row.id,
      };
    case 'newest':
      return { sort, createdAt: row.keys.createdAt, id: row.id };
    case 'price_asc':
    case 'price_desc':
      return { sort, price: row.price.toString(), id: row.id };
  }
}
