import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** A row of adjustment_requests, as stored. */
export interface AdjustmentRequest {
  id: string;
  tenant_id: string;
  account_id: string;
  direction: 'credit' | 'debit';
  amount: string;
  currency: string;
  reason: string;
  status: 'pending' | 'executed' | 'rejected';
  requested_by: string;
  decided_by: string | null;
  transaction_id: string | null;
  approval_required: boolean;
  idempotency_key: string | null;
  fingerprint: string | null;
  rerun_of: string | null;
}

export interface AdjustmentRow {
  id: string;
  tenantId: string;
  accountId: string;
  direction: 'credit' | 'debit';
  amount: string;
  currency: string;
  reason: string;
  status: 'pending' | 'executed' | 'rejected';
  requestedBy: string;
  decidedBy: string | null;
  transactionId: string | null;
  approvalRequired: boolean;
  rerunOf: string | null;
  createdAt: Date;
  decidedAt: Date | null;
}

/** Operators' adjustment requests: pending, executed (with their transaction) or rejected. */
@Injectable()
export class AdjustmentRepository {
  /** Serialises one operator's requests until the transaction ends. */
  async lockOperator(manager: EntityManager, operatorId: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('adjustments:' || $1, 0))`, [
      operatorId,
    ]);
  }

  async findByKey(
    manager: EntityManager,
    operatorId: string,
    key: string,
  ): Promise<AdjustmentRequest | null> {
    const [row] = await manager.query(
      `SELECT * FROM adjustment_requests WHERE requested_by = $1 AND idempotency_key = $2`,
      [operatorId, key],
    );
    return row ?? null;
  }

  /** The operator's adjustments in `currency` over the last `windowSeconds`, rejected ones aside. */
  async windowTotal(
    manager: EntityManager,
    operatorId: string,
    currency: string,
    windowSeconds: number,
  ): Promise<bigint> {
    const [{ total }]: { total: string }[] = await manager.query(
      `SELECT coalesce(sum(amount), 0)::text AS total FROM adjustment_requests
        WHERE requested_by = $1 AND currency = $2 AND status <> 'rejected'
          AND created_at > now() - make_interval(secs => $3)`,
      [operatorId, currency, windowSeconds],
    );
    return BigInt(total);
  }

  async insert(
    manager: EntityManager,
    r: {
      id: string;
      tenantId: string;
      accountId: string;
      direction: 'credit' | 'debit';
      amount: bigint;
      currency: string;
      reason: string;
      requestedBy: string;
      approvalRequired: boolean;
      idempotencyKey: string | null;
      fingerprint: string | null;
      rerunOf: string | null;
    },
  ): Promise<AdjustmentRequest> {
    const [row]: AdjustmentRequest[] = await manager.query(
      `INSERT INTO adjustment_requests (id, tenant_id, account_id, direction, amount, currency, reason, requested_by,
         approval_required, idempotency_key, fingerprint, rerun_of)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
      [
        r.id,
        r.tenantId,
        r.accountId,
        r.direction,
        r.amount.toString(),
        r.currency,
        r.reason,
        r.requestedBy,
        r.approvalRequired,
        r.idempotencyKey,
        r.fingerprint,
        r.rerunOf,
      ],
    );
    return row;
  }

  /** The request, locked until the transaction ends; null when there is none. */
  async lock(manager: EntityManager, id: string): Promise<AdjustmentRequest | null> {
    const [row] = await manager.query(`SELECT * FROM adjustment_requests WHERE id = $1 FOR UPDATE`, [id]);
    return row ?? null;
  }

  /** Executed as `transactionId`; decided by `decidedBy` (null: under the requester's allowance). */
  async markExecuted(
    manager: EntityManager,
    id: string,
    transactionId: string,
    decidedBy: string | null,
  ): Promise<void> {
    await manager.query(
      `UPDATE adjustment_requests SET status = 'executed', transaction_id = $2, decided_by = $3,
              decided_at = CASE WHEN $3::text IS NULL THEN NULL ELSE now() END
        WHERE id = $1`,
      [id, transactionId, decidedBy],
    );
  }

  /** Rejected by `decidedBy` (null: withdrawn by its requester). */
  async markRejected(manager: EntityManager, id: string, decidedBy: string | null): Promise<void> {
    await manager.query(
      `UPDATE adjustment_requests SET status = 'rejected', decided_by = $2, decided_at = now() WHERE id = $1`,
      [id, decidedBy],
    );
  }

  /** Whether the adjustment executed as `transactionId` needed a second operator (null: none did). */
  async approvalRequiredFor(manager: EntityManager, transactionId: string): Promise<boolean | null> {
    const [row]: { approval_required: boolean }[] = await manager.query(
      `SELECT approval_required FROM adjustment_requests WHERE transaction_id = $1`,
      [transactionId],
    );
    return row?.approval_required ?? null;
  }

  /** Newest first, at most 200. */
  async list(manager: EntityManager, status: string | undefined): Promise<AdjustmentRow[]> {
    return manager.query(
      `SELECT id, tenant_id AS "tenantId", account_id AS "accountId", direction, amount::text, currency, reason, status,
              requested_by AS "requestedBy", decided_by AS "decidedBy", transaction_id AS "transactionId",
              approval_required AS "approvalRequired", rerun_of AS "rerunOf",
              created_at AS "createdAt", decided_at AS "decidedAt"
         FROM adjustment_requests WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at DESC LIMIT 200`,
      [status ?? null],
    );
  }
}
