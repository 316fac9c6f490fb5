import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { TransactionStatus, TransactionType } from '#domain';
import { OutboxStore, type OutboxMessageInput } from '../outbox.store.js';
import { queryPrepared } from '../prepared.js';

export interface TransactionRecord {
  id: string;
  tenantId: string;
  type: TransactionType;
  status: TransactionStatus;
  amount: bigint;
  currency: string;
  sourceAccountId: string | null;
  destinationAccountId: string | null;
  parentTransactionId: string | null;
  /** The hold a `capture` captures. */
  holdId: string | null;
  refundedAmount: bigint;
  description: string | null;
  metadata: Record<string, unknown>;
  failureCode: string | null;
  failureMessage: string | null;
  correlationId: string | null;
  createdAt: Date;
  completedAt: Date | null;
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
   * Accepts a transaction in ONE statement (an implicit transaction: one round trip): takes the
   * idempotency key's transaction-scoped advisory lock; checks that `accountIds` are this tenant's
   * active customer accounts in the transaction's currency; only then stores the answer under the
   * key (ON CONFLICT DO NOTHING: a key already answered wins) and, only if that row was written,
   * the pending transaction and its outbox messages. Answers whether the lock was had, whether
   * the transaction was written, and the accounts found (for the caller's refusal when not).
   */
  async acceptOnce(
    dataSource: DataSource,
    t: Omit<TransactionRecord, 'refundedAmount' | 'failureCode' | 'failureMessage' | 'completedAt'>,
    announce: OutboxMessageInput[],
    guard: {
      key: string;
      fingerprint: string;
      accountIds: string[];
      response: { status: number; body: string; headers: Record<string, string> };
    },
  ): Promise<{
    locked: boolean;
    inserted: boolean;
    accounts: { id: string; currency: string; status: string }[];
  }> {
    const outbox = OutboxStore.insertStatement(announce, 19);
    // Its text depends only on the number of outbox messages: prepared once per connection.
    const [row] = await queryPrepared<{
      locked: boolean;
      inserted: boolean;
      accounts: { id: string; currency: string; status: string }[];
    }>(
      dataSource,
      `tally_accept_once_${announce.length}`,
      `WITH lock AS (
         SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0)) AS locked
       ), found AS (
         SELECT id, currency, status FROM accounts
          WHERE id = ANY($3::text[]) AND tenant_id = $1 AND kind = 'customer'
       ), checked AS (
         SELECT (SELECT locked FROM lock)
                AND (SELECT count(*) FROM found) = cardinality($3::text[])
                AND NOT EXISTS (SELECT 1 FROM found WHERE currency <> $9 OR status <> 'active') AS ok
       ), answered AS (
         INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, response_body, response_headers)
         SELECT $1, $2, $4, $5, $6, $7::jsonb WHERE (SELECT ok FROM checked)
         ON CONFLICT (tenant_id, key) DO NOTHING
         RETURNING 1
       ), inserted AS (
         INSERT INTO transactions (id, tenant_id, type, status, amount, currency, source_account_id,
           destination_account_id, description, metadata, correlation_id, created_at, updated_at)
         SELECT $8, $1, $10, $11, $12, $9, $13, $14, $15, $16::jsonb, $17, $18, $18
          WHERE EXISTS (SELECT 1 FROM answered)
         RETURNING id
       ), announced AS (
         ${outbox.sql} WHERE EXISTS (SELECT 1 FROM inserted)
       )
       SELECT (SELECT locked FROM lock) AS locked,
              EXISTS (SELECT 1 FROM inserted) AS inserted,
              coalesce((SELECT json_agg(found) FROM found), '[]'::json) AS accounts`,
      [
        t.tenantId,
        guard.key,
        guard.accountIds,
        guard.fingerprint,
        guard.response.status,
        guard.response.body,
        JSON.stringify(guard.response.headers),
        t.id,
        t.currency,
        t.type,
        t.status,
        t.amount.toString(),
        t.sourceAccountId,
        t.destinationAccountId,
        t.description,
        JSON.stringify(t.metadata),
        t.correlationId,
        t.createdAt,
        ...outbox.params,
      ],
    );
    return row;
  }

  /** Inserts transactions that are already final (usage charges, applied where they are decided). */
  async insertCompleted(manager: EntityManager, rows: TransactionRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await manager.query(
      `INSERT INTO transactions (id, tenant_id, type, status, amount, currency, source_account_id,
         destination_account_id, description, metadata, correlation_id, completed_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],
         $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::text[], $12::timestamptz[])`,
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
        rows.map((t) => t.completedAt),
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

  /** Records the outcome of several transactions in one statement. */
  async finishMany(manager: EntityManager, finished: TransactionRecord[]): Promise<void> {
    if (finished.length === 0) return;
    await manager.query(
      `UPDATE transactions t SET status = d.status, failure_code = d.code, failure_message = d.message,
              completed_at = d.completed_at, updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
              AS d(id, status, code, message, completed_at)
        WHERE t.id = d.id`,
      [
        finished.map((t) => t.id),
        finished.map((t) => t.status),
        finished.map((t) => t.failureCode),
        finished.map((t) => t.failureMessage),
        finished.map((t) => t.completedAt),
      ],
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
