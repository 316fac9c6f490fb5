import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface TransactionSearch {
  id?: string;
  tenantId?: string;
  /** Either side of the transaction. */
  accountId?: string;
  status?: string;
  type?: string;
  from?: string;
  to?: string;
  /** Transactions older than this id. */
  before?: string;
  limit: number;
}

export interface TransactionRow {
  id: string;
  tenantId: string;
  type: string;
  status: string;
  amount: string;
  currency: string;
  sourceAccountId: string | null;
  destinationAccountId: string | null;
  failureCode: string | null;
  correlationId: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

export interface OutboxMessageRow {
  messageId: string;
  type: string;
  createdAt: Date;
  publishedAt: Date | null;
  publishAttempts: number;
}

/** Transactions across tenants for operators, and what surrounds one: entries, messages, dead letters. */
@Injectable()
export class TransactionSearchRepository {
  /** Newest first. */
  async search(manager: EntityManager, q: TransactionSearch): Promise<TransactionRow[]> {
    return manager.query(
      `SELECT id, tenant_id AS "tenantId", type, status, amount::text, currency, source_account_id AS "sourceAccountId",
              destination_account_id AS "destinationAccountId", failure_code AS "failureCode", correlation_id AS "correlationId",
              created_at AS "createdAt", completed_at AS "completedAt"
         FROM transactions
        WHERE ($1::text IS NULL OR id = $1) AND ($2::text IS NULL OR tenant_id = $2)
          AND ($3::text IS NULL OR source_account_id = $3 OR destination_account_id = $3)
          AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR type = $5)
          AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::timestamptz IS NULL OR created_at < $7)
          AND ($8::text IS NULL OR id < $8)
        ORDER BY id DESC LIMIT $9`,
      [
        q.id ?? null,
        q.tenantId ?? null,
        q.accountId ?? null,
        q.status ?? null,
        q.type ?? null,
        q.from ?? null,
        q.to ?? null,
        q.before ?? null,
        q.limit,
      ],
    );
  }

  /** The tenant a transaction belongs to, or null when there is no such transaction. */
  async tenantOf(manager: EntityManager, id: string): Promise<string | null> {
    const [row]: { tenant_id: string }[] = await manager.query(
      `SELECT tenant_id FROM transactions WHERE id = $1`,
      [id],
    );
    return row?.tenant_id ?? null;
  }

  async updatedAt(manager: EntityManager, id: string): Promise<Date> {
    const [row]: { updatedAt: Date }[] = await manager.query(
      `SELECT updated_at AS "updatedAt" FROM transactions WHERE id = $1`,
      [id],
    );
    return row.updatedAt;
  }

  async entriesOf(manager: EntityManager, id: string) {
    return manager.query(
      `SELECT id, account_id AS "accountId", amount::text, balance_after::text AS "balanceAfter", created_at AS "createdAt"
         FROM ledger_entries WHERE transaction_id = $1 ORDER BY seq`,
      [id],
    ) as Promise<{ id: string; accountId: string; amount: string; balanceAfter: string; createdAt: Date }[]>;
  }

  /** The outbox messages that name the transaction: its command and its outcome events. */
  async messagesOf(manager: EntityManager, id: string): Promise<OutboxMessageRow[]> {
    return manager.query(
      `SELECT message_id AS "messageId", routing_key AS "type", created_at AS "createdAt", published_at AS "publishedAt",
              publish_attempts AS "publishAttempts"
         FROM outbox WHERE payload->>'transactionId' = $1 OR payload->'data'->>'id' = $1 ORDER BY id`,
      [id],
    );
  }

  /** The dead letters whose payload names the transaction. */
  async deadLettersOf(manager: EntityManager, id: string) {
    return manager.query(
      `SELECT id, status, error, error_code AS "errorCode", failed_at AS "failedAt" FROM dead_letters
        WHERE payload LIKE '%' || $1 || '%' ORDER BY id`,
      [id],
    ) as Promise<
      { id: string; status: string; error: string | null; errorCode: string | null; failedAt: Date }[]
    >;
  }
}
