import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { OrderFacts, OrderStatus, PricedLine } from '#domain';
import { OutboxStore, type OutboxMessageInput } from '../outbox.store.js';

export type OrderItemRecord = OrderFacts['items'][number];

/** A stored order: the facts its view shows, and what only the system keeps. */
export interface OrderRecord extends OrderFacts {
  tenantId: string;
  correlationId: string | null;
  reservedUntil: Date;
}

interface OrderRow {
  id: string;
  tenant_id: string;
  account_id: string;
  status: OrderStatus;
  total: string;
  currency: string;
  hold_id: string;
  transaction_id: string | null;
  customer_email: string | null;
  failure_code: string | null;
  failure_message: string | null;
  metadata: Record<string, unknown>;
  correlation_id: string | null;
  reserved_until: Date;
  created_at: Date;
  completed_at: Date | null;
  items: {
    product_id: string;
    sku: string;
    name: string;
    quantity: number;
    unit_price: string;
    amount: string;
  }[];
}

const COLUMNS = `o.id, o.tenant_id, o.account_id, o.status, o.total, o.currency, o.hold_id, o.transaction_id,
  o.customer_email, o.failure_code, o.failure_message, o.metadata, o.correlation_id, o.reserved_until,
  o.created_at, o.completed_at,
  (SELECT json_agg(json_build_object('product_id', i.product_id, 'sku', i.sku, 'name', i.name,
            'quantity', i.quantity, 'unit_price', i.unit_price::text, 'amount', i.amount::text)
          ORDER BY i.position)
     FROM order_items i WHERE i.order_id = o.id) AS items`;

function toRecord(row: OrderRow): OrderRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    accountId: row.account_id,
    status: row.status,
    items: (row.items ?? []).map((i) => ({
      productId: i.product_id,
      sku: i.sku,
      name: i.name,
      quantity: BigInt(i.quantity),
      unitPrice: BigInt(i.unit_price),
      amount: BigInt(i.amount),
    })),
    total: BigInt(row.total),
    currency: row.currency,
    holdId: row.hold_id,
    transactionId: row.transaction_id,
    customerEmail: row.customer_email,
    failureCode: row.failure_code,
    failureMessage: row.failure_message,
    metadata: row.metadata,
    correlationId: row.correlation_id,
    reservedUntil: row.reserved_until,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

export interface NewOrder {
  id: string;
  tenantId: string;
  accountId: string;
  lines: PricedLine[];
  total: bigint;
  currency: string;
  holdId: string;
  customerEmail: string | null;
  metadata: Record<string, unknown>;
  correlationId: string | null;
  reservedForSeconds: number;
}

/** The operators' search: across tenants unless one is named, newest first (by id), paged by `before`. */
export interface OrderSearch {
  tenantId?: string;
  accountId?: string;
  status?: OrderStatus;
  /** Placed at or after. */
  from?: string;
  /** Placed before. */
  to?: string;
  /** Orders older than this id. */
  before?: string;
  limit: number;
}

/** An outbox row about an order: its command and its outcome event. */
export interface OrderMessageRow {
  messageId: string;
  type: string;
  createdAt: Date;
  publishedAt: Date | null;
}

/**
 * Orders and their lines. Lock order with everything an order touches: the order, then its
 * products (in id order), then the ledger's (transactions, holds, accounts).
 */
@Injectable()
export class OrderRepository {
  /** The order, its lines and the command that completes it, in one statement. */
  async insert(manager: EntityManager, o: NewOrder, announce: OutboxMessageInput[]): Promise<OrderRecord> {
    const outbox = OutboxStore.insertStatement(announce, 17);
    await manager.query(
      `WITH placed AS (
         INSERT INTO orders (id, tenant_id, account_id, total, currency, hold_id, customer_email, metadata,
           correlation_id, reserved_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, statement_timestamp() + make_interval(secs => $10))
         RETURNING id
       ), lines AS (
         INSERT INTO order_items (order_id, position, product_id, sku, name, quantity, unit_price, amount)
         SELECT (SELECT id FROM placed), n - 1, p, s, nm, q, u, a
           FROM unnest($11::text[], $12::text[], $13::text[], $14::int[], $15::bigint[], $16::bigint[])
                WITH ORDINALITY AS l(p, s, nm, q, u, a, n)
       ), announced AS (${outbox.sql})
       SELECT 1`,
      [
        o.id,
        o.tenantId,
        o.accountId,
        o.total.toString(),
        o.currency,
        o.holdId,
        o.customerEmail,
        JSON.stringify(o.metadata),
        o.correlationId,
        o.reservedForSeconds,
        o.lines.map((l) => l.productId),
        o.lines.map((l) => l.sku),
        o.lines.map((l) => l.name),
        o.lines.map((l) => Number(l.quantity)),
        o.lines.map((l) => l.unitPrice.toString()),
        o.lines.map((l) => l.amount.toString()),
        ...outbox.params,
      ],
    );
    return (await this.find(manager, o.tenantId, o.id))!;
  }

  async find(manager: EntityManager, tenantId: string, id: string): Promise<OrderRecord | null> {
    const rows: OrderRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM orders o WHERE o.id = $1 AND o.tenant_id = $2`,
      [id, tenantId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** The account an order of this tenant belongs to (its owner), or null when there is no such order. */
  async accountOf(manager: EntityManager, tenantId: string, id: string): Promise<string | null> {
    const rows: { account_id: string }[] = await manager.query(
      `SELECT account_id FROM orders WHERE id = $1 AND tenant_id = $2`,
      [id, tenantId],
    );
    return rows[0]?.account_id ?? null;
  }

  /** The order locked (`FOR UPDATE`): whoever holds it decides its fate. Null when there is none. */
  async lock(manager: EntityManager, id: string, tenantId?: string): Promise<OrderRecord | null> {
    const rows: OrderRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM orders o WHERE o.id = $1 ${tenantId ? 'AND o.tenant_id = $2' : ''} FOR UPDATE OF o`,
      tenantId ? [id, tenantId] : [id],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Reserved orders past their time, locked; ones another sweeper holds are skipped. */
  async claimExpired(manager: EntityManager, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM orders WHERE status = 'reserved' AND reserved_until < statement_timestamp()
        ORDER BY reserved_until LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  /** A reserved order's end: completed (with its capture), failed (with why) or cancelled. */
  async finish(
    manager: EntityManager,
    id: string,
    outcome:
      | { status: 'completed'; transactionId: string }
      | { status: 'failed'; failure: { code: string; message: string } }
      | { status: 'cancelled' },
  ): Promise<OrderRecord> {
    const [rows]: [OrderRow[], number] = await manager.query(
      `UPDATE orders o SET status = $2, transaction_id = $3, failure_code = $4, failure_message = $5,
              completed_at = statement_timestamp(), updated_at = statement_timestamp()
        WHERE o.id = $1 AND o.status = 'reserved'
        RETURNING ${COLUMNS}`,
      [
        id,
        outcome.status,
        outcome.status === 'completed' ? outcome.transactionId : null,
        outcome.status === 'failed' ? outcome.failure.code : null,
        outcome.status === 'failed' ? outcome.failure.message : null,
      ],
    );
    if (!rows[0]) throw new Error(`order ${id} is not reserved: its caller must hold it locked and reserved`);
    return toRecord(rows[0]);
  }

  /** An order of any tenant (the operators' read). */
  async findAny(manager: EntityManager, id: string): Promise<OrderRecord | null> {
    const rows: OrderRow[] = await manager.query(`SELECT ${COLUMNS} FROM orders o WHERE o.id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** The operators' search, newest first. */
  async search(manager: EntityManager, q: OrderSearch): Promise<OrderRecord[]> {
    const rows: OrderRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM orders o
        WHERE ($1::text IS NULL OR o.tenant_id = $1)
          AND ($2::text IS NULL OR o.account_id = $2)
          AND ($3::text IS NULL OR o.status = $3)
          AND ($4::timestamptz IS NULL OR o.created_at >= $4)
          AND ($5::timestamptz IS NULL OR o.created_at < $5)
          AND ($6::text IS NULL OR o.id < $6)
        ORDER BY o.id DESC LIMIT $7`,
      [
        q.tenantId ?? null,
        q.accountId ?? null,
        q.status ?? null,
        q.from ?? null,
        q.to ?? null,
        q.before ?? null,
        q.limit,
      ],
    );
    return rows.map(toRecord);
  }

  /** The order's `order.*` messages in the outbox (its command, then its outcome), in the order written. */
  async messagesOf(manager: EntityManager, id: string): Promise<OrderMessageRow[]> {
    return manager.query(
      `SELECT message_id AS "messageId", routing_key AS "type", created_at AS "createdAt", published_at AS "publishedAt"
         FROM outbox
        WHERE routing_key LIKE 'order.%' AND (payload->>'orderId' = $1 OR payload->'data'->>'id' = $1)
        ORDER BY id`,
      [id],
    );
  }

  /** A page of the tenant's orders, newest first, after `before` (an order id). */
  async list(
    manager: EntityManager,
    tenantId: string,
    q: { accountId?: string; status?: OrderStatus; before?: string; limit: number },
  ): Promise<OrderRecord[]> {
    const rows: OrderRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM orders o
        WHERE o.tenant_id = $1
          AND ($2::text IS NULL OR o.account_id = $2)
          AND ($3::text IS NULL OR o.status = $3)
          AND ($4::text IS NULL OR o.id < $4)
        ORDER BY o.id DESC LIMIT $5`,
      [tenantId, q.accountId ?? null, q.status ?? null, q.before ?? null, q.limit],
    );
    return rows.map(toRecord);
  }
}
