import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { HoldFacts, HoldState, HoldStatus } from '#domain';

export interface HoldRecord extends HoldState, HoldFacts {
  tenantId: string;
  capturedAmount: bigint | null;
  correlationId: string | null;
  releasedAt: Date | null;
}

interface HoldRow {
  id: string;
  tenant_id: string;
  account_id: string;
  amount: string;
  currency: string;
  status: HoldStatus;
  expires_at: Date;
  capture_transaction_id: string | null;
  captured_amount: string | null;
  correlation_id: string | null;
  created_at: Date;
  released_at: Date | null;
}

const COLUMNS = `id, tenant_id, account_id, amount, currency, status, expires_at, capture_transaction_id,
  captured_amount, correlation_id, created_at, released_at`;

function toRecord(row: HoldRow): HoldRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    accountId: row.account_id,
    amount: BigInt(row.amount),
    currency: row.currency,
    status: row.status,
    expiresAt: row.expires_at,
    captureTransactionId: row.capture_transaction_id,
    capturedAmount: row.captured_amount === null ? null : BigInt(row.captured_amount),
    correlationId: row.correlation_id,
    createdAt: row.created_at,
    releasedAt: row.released_at,
  };
}

/** A hold as it is placed: it expires `expiresInSeconds` after the database's now. */
export interface HoldInsert {
  id: string;
  tenantId: string;
  accountId: string;
  amount: bigint;
  currency: string;
  expiresInSeconds: number;
  correlationId: string | null;
  /** Set for a hold placed already spoken for (a withdrawal's, while its payout is out). */
  captureTransactionId?: string | null;
}

/**
 * Holds on customer accounts. Lock order everywhere: holds before accounts (a void takes its hold
 * then the account; the worker and the expiry sweep take holds, then accounts in id order).
 */
@Injectable()
export class HoldRepository {
  async insert(manager: EntityManager, h: HoldInsert): Promise<HoldRecord> {
    const [row]: HoldRow[] = await manager.query(
      `INSERT INTO holds (id, tenant_id, account_id, amount, currency, expires_at, correlation_id,
         capture_transaction_id)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), $7, $8) RETURNING ${COLUMNS}`,
      [
        h.id,
        h.tenantId,
        h.accountId,
        h.amount.toString(),
        h.currency,
        h.expiresInSeconds,
        h.correlationId,
        h.captureTransactionId ?? null,
      ],
    );
    return toRecord(row);
  }

  async find(manager: EntityManager, tenantId: string, id: string): Promise<HoldRecord | null> {
    const rows: HoldRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM holds WHERE id = $1 AND tenant_id = $2`,
      [id, tenantId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** One hold of this tenant, locked, with the database's clock (expiry is judged by it). */
  async lock(
    manager: EntityManager,
    tenantId: string,
    id: string,
  ): Promise<{ hold: HoldRecord; now: Date } | null> {
    const rows: (HoldRow & { now: Date })[] = await manager.query(
      `SELECT ${COLUMNS}, now() AS now FROM holds WHERE id = $1 AND tenant_id = $2 FOR NO KEY UPDATE`,
      [id, tenantId],
    );
    return rows[0] ? { hold: toRecord(rows[0]), now: rows[0].now } : null;
  }

  /** Holds by id, locked in id order. */
  async lockMany(manager: EntityManager, ids: string[]): Promise<Map<string, HoldRecord>> {
    if (ids.length === 0) return new Map();
    const rows: HoldRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM holds WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [[...new Set(ids)]],
    );
    return new Map(rows.map((r) => [r.id, toRecord(r)]));
  }

  /**
   * Up to `limit` active holds past their expiry and not being captured, locked; holds another
   * sweeper (or a void) has locked are skipped, so each is released by exactly one of them.
   */
  async claimExpired(manager: EntityManager, limit: number): Promise<HoldRecord[]> {
    const rows: HoldRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM holds
        WHERE status = 'active' AND capture_transaction_id IS NULL AND expires_at <= now()
        ORDER BY id LIMIT $1 FOR NO KEY UPDATE SKIP LOCKED`,
      [limit],
    );
    return rows.map(toRecord);
  }

  /** Marks the hold as spoken for by a capture that the worker will apply. */
  async markCapturing(manager: EntityManager, id: string, transactionId: string | null): Promise<void> {
    await manager.query(`UPDATE holds SET capture_transaction_id = $2, updated_at = now() WHERE id = $1`, [
      id,
      transactionId,
    ]);
  }

  /** Final states for several holds in one statement (captured, voided, expired). */
  async finishMany(
    manager: EntityManager,
    holds: { id: string; status: HoldStatus; capturedAmount: bigint | null }[],
  ): Promise<HoldRecord[]> {
    if (holds.length === 0) return [];
    // TypeORM answers UPDATE … RETURNING with [rows, count].
    const [rows]: [HoldRow[], number] = await manager.query(
      `UPDATE holds h SET status = d.status, captured_amount = d.captured, released_at = now(), updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::bigint[]) AS d(id, status, captured)
        WHERE h.id = d.id RETURNING ${COLUMNS.replace(/(\w+)/g, 'h.$1')}`,
      [
        holds.map((h) => h.id),
        holds.map((h) => h.status),
        holds.map((h) => h.capturedAmount?.toString() ?? null),
      ],
    );
    return rows.map(toRecord);
  }
}
