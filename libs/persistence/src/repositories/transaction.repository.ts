import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { TransactionFacts, TransactionStatus, TransactionType } from '#domain';
import { idempotencyKeyLock } from '../idempotency.store.js';
import { OutboxStore, type OutboxMessageInput } from '../outbox.store.js';
import { queryPrepared } from '../prepared.js';

/** A stored transaction: what its view shows, and what only the ledger needs. */
export interface TransactionRecord extends TransactionFacts {
  tenantId: string;
  /** The hold a `capture` captures. */
  holdId: string | null;
  refundedAmount: bigint;
  correlationId: string | null;
}

interface TransactionRow {
  id: string;
  tenant_id: string;
  type: TransactionType;
  status: TransactionStatus;
  amount: string;
  currency: string;
  source_account_id: string | null;
  destination_account_id: string | null;
  parent_transaction_id: string | null;
  hold_id: string | null;
  refunded_amount: string;
  description: string | null;
  metadata: Record<string, unknown>;
  failure_code: string | null;
  failure_message: string | null;
  correlation_id: string | null;
  created_at: Date;
  completed_at: Date | null;
}

const COLUMNS = `id, tenant_id, type, status, amount, currency, source_account_id, destination_account_id,
  parent_transaction_id, hold_id, refunded_amount, description, metadata, failure_code, failure_message,
  correlation_id, created_at, completed_at`;

function toRecord(row: TransactionRow): TransactionRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    type: row.type,
    status: row.status,
    amount: BigInt(row.amount),
    currency: row.currency,
    sourceAccountId: row.source_account_id,
    destinationAccountId: row.destination_account_id,
    parentTransactionId: row.parent_transaction_id,
    holdId: row.hold_id,
    refundedAmount: BigInt(row.refunded_amount),
    description: row.description,
    metadata: row.metadata,
    failureCode: row.failure_code,
    failureMessage: row.failure_message,
    correlationId: row.correlation_id,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

export interface TransactionFilter {
  accountId?: string;
  status?: TransactionStatus;
  type?: TransactionType;
  before?: string;
  limit: number;
}

@Injectable()
export class TransactionRepository {
  /** Inserts the transaction and, in the same statement, the outbox messages that announce it. */
  async insert(
    manager: EntityManager,
    t: Omit<
      TransactionRecord,
      'refundedAmount' | 'failureCode' | 'failureMessage' | 'completedAt' | 'createdAt'
    >,
    announce: OutboxMessageInput[] = [],
  ): Promise<TransactionRecord> {
    const outbox = announce.length > 0 ? OutboxStore.insertStatement(announce, 14) : null;
    const [row] = await manager.query(
      `WITH inserted AS (
         INSERT INTO transactions (id, tenant_id, type, status, amount, currency, source_account_id,
           destination_account_id, parent_transaction_id, description, metadata, correlation_id, hold_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${COLUMNS}
       )${outbox ? `, announced AS (${outbox.sql})` : ''}
       SELECT * FROM inserted`,
      [
        t.id,
        t.tenantId,
        t.type,
        t.status,
        t.amount.toString(),
        t.currency,
        t.sourceAccountId,
        t.destinationAccountId,
        t.parentTransactionId,
        t.description,
        JSON.stringify(t.metadata),
        t.correlationId,
        t.holdId,
        ...(outbox?.params ?? []),
      ],
    );
    return toRecord(row);
  }

  /**
   * Accepts deposits, withdrawals, transfers and charges, many requests in one statement and one
   * commit (group commit). Each row is decided on its own: its idempotency key's try-lock, the
   * IdempotencyStore's (taken: the same key is in flight), its accounts checked (exist in the tenant, customer,
   * active, same currency), then — only if all hold — its idempotency row (ON CONFLICT DO NOTHING:
   * the key's primary key decides), its transaction and its command; so one refused or in-flight
   * request does not affect the others. Requests in one call must have distinct
   * (tenant, key) pairs. Answers in the order given.
   */
  async acceptMany(dataSource: DataSource, requests: AcceptRequest[]): Promise<AcceptResult[]> {
    const rows = await queryPrepared<AcceptResult & { idx: number }>(
      dataSource,
      'tally_accept_many',
      `WITH req AS (
         SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::jsonb[],
           $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[],
           $16::jsonb[], $17::text[], $18::timestamptz[], $19::text[], $20::text[], $21::text[], $22::text[],
           $23::int[], $24::jsonb[], $25::jsonb[], $26::text[])
           AS r(idx, tenant_id, key, fingerprint, response_status, response_body, response_headers,
             id, currency, type, status, amount, source_account_id, destination_account_id, description,
             metadata, correlation_id, created_at, message_id, exchange, routing_key, message_type,
             schema_version, payload, message_headers, message_correlation_id)
       ), locks AS (
         SELECT idx, ${idempotencyKeyLock('tenant_id', 'key')} AS locked FROM req
       ), found AS (
         SELECT r.idx, a.id, a.currency, a.status
           FROM req r JOIN accounts a
             ON a.id IN (r.source_account_id, r.destination_account_id)
            AND a.tenant_id = r.tenant_id AND a.kind = 'customer'
       ), checked AS (
         SELECT r.idx, l.locked
                AND (SELECT count(*) FROM found f WHERE f.idx = r.idx)
                    = (r.source_account_id IS NOT NULL)::int + (r.destination_account_id IS NOT NULL)::int
                AND NOT EXISTS (SELECT 1 FROM found f WHERE f.idx = r.idx
                                 AND (f.currency <> r.currency OR f.status <> 'active')) AS ok
           FROM req r JOIN locks l USING (idx)
       ), answered AS (
         INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, response_body, response_headers)
         SELECT r.tenant_id, r.key, r.fingerprint, r.response_status, r.response_body, r.response_headers
           FROM req r JOIN checked c USING (idx) WHERE c.ok
         ON CONFLICT (tenant_id, key) DO NOTHING
         RETURNING tenant_id, key
       ), inserted AS (
         INSERT INTO transactions (id, tenant_id, type, status, amount, currency, source_account_id,
           destination_account_id, description, metadata, correlation_id, created_at, updated_at)
         SELECT r.id, r.tenant_id, r.type, r.status, r.amount, r.currency, r.source_account_id,
                r.destination_account_id, r.description, r.metadata, r.correlation_id, r.created_at, r.created_at
           FROM req r JOIN answered a ON a.tenant_id = r.tenant_id AND a.key = r.key
         RETURNING id
       ), announced AS (
         INSERT INTO outbox (message_id, exchange, routing_key, message_type, schema_version, payload, headers, correlation_id)
         SELECT r.message_id, r.exchange, r.routing_key, r.message_type, r.schema_version, r.payload,
                r.message_headers, r.message_correlation_id
           FROM req r JOIN inserted i ON i.id = r.id
       )
       SELECT r.idx, l.locked,
              EXISTS (SELECT 1 FROM inserted i WHERE i.id = r.id) AS inserted,
              coalesce((SELECT json_agg(json_build_object('id', f.id, 'currency', f.currency, 'status', f.status))
                          FROM found f WHERE f.idx = r.idx), '[]'::json) AS accounts
         FROM req r JOIN locks l USING (idx)`,
      [
        requests.map((_, i) => i),
        requests.map((r) => r.transaction.tenantId),
        requests.map((r) => r.guard.key),
        requests.map((r) => r.guard.fingerprint),
        requests.map((r) => r.guard.response.status),
        requests.map((r) => r.guard.response.body),
        requests.map((r) => JSON.stringify(r.guard.response.headers)),
        requests.map((r) => r.transaction.id),
        requests.map((r) => r.transaction.currency),
        requests.map((r) => r.transaction.type),
        requests.map((r) => r.transaction.status),
        requests.map((r) => r.transaction.amount.toString()),
        requests.map((r) => r.transaction.sourceAccountId),
        requests.map((r) => r.transaction.destinationAccountId),
        requests.map((r) => r.transaction.description),
        requests.map((r) => JSON.stringify(r.transaction.metadata)),
        requests.map((r) => r.transaction.correlationId),
        requests.map((r) => r.transaction.createdAt),
        ...OutboxStore.columns(requests.map((r) => r.command)),
      ],
    );
    const byIndex = new Map(rows.map((row) => [row.idx, row]));
    return requests.map((_, i) => {
      const row = byIndex.get(i)!;
      return { locked: row.locked, inserted: row.inserted, accounts: row.accounts };
    });
  }

  /**
   * Inserts transactions that are already final (usage charges, applied where they are decided),
   * completed at the database's time.
   */
  async insertCompleted(
    manager: EntityManager,
    rows: Omit<TransactionRecord, 'createdAt' | 'completedAt'>[],
  ): Promise<void> {
    if (rows.length === 0) return;
    await manager.query(
      `INSERT INTO transactions (id, tenant_id, type, status, amount, currency, source_account_id,
         destination_account_id, description, metadata, correlation_id, completed_at)
       SELECT *, statement_timestamp() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],
         $6::text[], $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::text[])`,
      [
        rows.map((t) => t.id),
        rows.map((t) => t.tenantId),
        rows.map((t) => t.type),
        rows.map((t) => t.status),
        rows.map((t) => t.amount.toString()),
        rows.map((t) => t.currency),
        rows.map((t) => t.sourceAccountId),
        rows.map((t) => t.destinationAccountId),
        rows.map((t) => t.description),
        rows.map((t) => JSON.stringify(t.metadata)),
        rows.map((t) => t.correlationId),
      ],
    );
  }

  async find(manager: EntityManager, tenantId: string, id: string): Promise<TransactionRecord | null> {
    const rows: TransactionRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM transactions WHERE id = $1 AND tenant_id = $2`,
      [id, tenantId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Locks transactions in id order and returns them by id: concurrent deliveries of one command
   * queue up here. (NO KEY: a refund being inserted with one of these as its parent only takes a
   * key-share lock, which this does not block.)
   */
  async lockMany(manager: EntityManager, ids: string[]): Promise<Map<string, TransactionRecord>> {
    if (ids.length === 0) return new Map();
    const rows: TransactionRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM transactions WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [[...new Set(ids)]],
    );
    return new Map(rows.map((r) => [r.id, toRecord(r)]));
  }

  /**
   * Records the outcome of several transactions in one statement, completed at the database's
   * time (the statement's timestamp, so every writer agrees on the clock); answers that time by id.
   */
  async finishMany(
    manager: EntityManager,
    finished: Pick<TransactionRecord, 'id' | 'status' | 'failureCode' | 'failureMessage'>[],
  ): Promise<Map<string, Date>> {
    if (finished.length === 0) return new Map();
    // TypeORM answers UPDATE … RETURNING with [rows, count].
    const [rows]: [{ id: string; completed_at: Date }[], number] = await manager.query(
      `UPDATE transactions t SET status = d.status, failure_code = d.code, failure_message = d.message,
              completed_at = statement_timestamp(), updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS d(id, status, code, message)
        WHERE t.id = d.id RETURNING t.id, t.completed_at`,
      [
        finished.map((t) => t.id),
        finished.map((t) => t.status),
        finished.map((t) => t.failureCode),
        finished.map((t) => t.failureMessage),
      ],
    );
    return new Map(rows.map((r) => [r.id, r.completed_at]));
  }

  /** Withdrawals whose funds are now held while a payment provider pays them out. */
  async markProcessing(manager: EntityManager, rows: { id: string; holdId: string }[]): Promise<void> {
    if (rows.length === 0) return;
    await manager.query(
      `UPDATE transactions t SET status = 'processing', hold_id = d.hold_id, updated_at = now()
         FROM unnest($1::text[], $2::text[]) AS d(id, hold_id) WHERE t.id = d.id AND t.status = 'pending'`,
      [rows.map((r) => r.id), rows.map((r) => r.holdId)],
    );
  }

  async addRefundedMany(manager: EntityManager, amounts: Map<string, bigint>): Promise<void> {
    if (amounts.size === 0) return;
    await manager.query(
      `UPDATE transactions t SET refunded_amount = t.refunded_amount + d.amount, updated_at = now()
         FROM unnest($1::text[], $2::bigint[]) AS d(id, amount) WHERE t.id = d.id`,
      [[...amounts.keys()], [...amounts.values()].map(String)],
    );
  }

  async list(manager: EntityManager, tenantId: string, f: TransactionFilter): Promise<TransactionRecord[]> {
    // Two index-friendly branches for an account filter (it may be either side).
    const rows: TransactionRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM transactions
        WHERE tenant_id = $1
          AND ($2::text IS NULL OR source_account_id = $2 OR destination_account_id = $2)
          AND ($3::text IS NULL OR status = $3)
          AND ($4::text IS NULL OR type = $4)
          AND ($5::text IS NULL OR id < $5)
        ORDER BY id DESC LIMIT $6`,
      [tenantId, f.accountId ?? null, f.status ?? null, f.type ?? null, f.before ?? null, f.limit],
    );
    return rows.map(toRecord);
  }
}

export interface AcceptRequest {
  transaction: Omit<TransactionRecord, 'refundedAmount' | 'failureCode' | 'failureMessage' | 'completedAt'>;
  /** The transaction's command (one outbox message). */
  command: OutboxMessageInput;
  guard: {
    key: string;
    fingerprint: string;
    response: { status: number; body: string; headers: Record<string, string> };
  };
}

export interface AcceptResult {
  /** The key's advisory lock was free (false: the same key is being handled elsewhere). */
  locked: boolean;
  /** The idempotency row, the transaction and its command were written. */
  inserted: boolean;
  /** The request's accounts as found in its tenant (to explain a refusal). */
  accounts: { id: string; currency: string; status: string }[];
}
