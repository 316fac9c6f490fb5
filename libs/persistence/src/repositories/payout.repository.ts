import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { PayoutStatus } from '#domain';

/** A withdrawal on its way through the payment provider (the transaction id is its key there). */
export interface PayoutRecord {
  transactionId: string;
  tenantId: string;
  accountId: string;
  holdId: string;
  amount: bigint;
  currency: string;
  status: PayoutStatus;
  attempts: number;
  nextAttemptAt: Date;
  providerPayoutId: string | null;
  outcomeDueAt: Date | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  settledAt: Date | null;
}

interface PayoutRow {
  transaction_id: string;
  tenant_id: string;
  account_id: string;
  hold_id: string;
  amount: string;
  currency: string;
  status: PayoutStatus;
  attempts: number;
  next_attempt_at: Date;
  provider_payout_id: string | null;
  outcome_due_at: Date | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  settled_at: Date | null;
}

const COLUMNS = `transaction_id, tenant_id, account_id, hold_id, amount, currency, status, attempts,
  next_attempt_at, provider_payout_id, outcome_due_at, last_error, created_at, updated_at, settled_at`;
const P_COLUMNS = COLUMNS.replace(/(\w+)/g, 'p.$1');

function toRecord(row: PayoutRow): PayoutRecord {
  return {
    transactionId: row.transaction_id,
    tenantId: row.tenant_id,
    accountId: row.account_id,
    holdId: row.hold_id,
    amount: BigInt(row.amount),
    currency: row.currency,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    providerPayoutId: row.provider_payout_id,
    outcomeDueAt: row.outcome_due_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    settledAt: row.settled_at,
  };
}

/** What reconciliation found differs between Tally's payout and the provider's report. */
export type MismatchKind =
  'paid_but_failed' | 'failed_but_succeeded' | 'unknown_to_provider' | 'paid_twice' | 'amount_differs';

export interface PayoutMismatch {
  transactionId: string;
  tenantId: string;
  kind: MismatchKind;
  tallyStatus: PayoutStatus;
  providerStatus: string | null;
  providerPayoutId: string | null;
  foundAt?: Date;
}

/** A settlement an operator asked for, waiting for a second operator's approval. */
export interface PendingSettlement {
  requestedBy: string;
  /** What is applied on approval; null for a payout that was final already (acknowledged). */
  outcome: 'succeeded' | 'failed' | null;
  reason: string;
}

/** An open mismatch as operators list it. */
export interface MismatchListing extends PayoutMismatch {
  foundAt: Date;
  amount: bigint;
  currency: string;
  pendingApproval: (PendingSettlement & { requestedByEmail: string | null; requestedAt: Date }) | null;
}

/** A mismatch locked for an operator's decision. */
export interface LockedMismatch {
  resolved: boolean;
  amount: bigint;
  currency: string;
  pendingApproval: PendingSettlement | null;
}

/** A provider webhook as received, before the worker applies it. */
export interface ProviderEventRecord {
  id: string;
  type: string;
  payoutId: string | null;
  reference: string | null;
  status: string | null;
  /** Failed applications so far (each set the event aside until its `retry_at`). */
  attempts: number;
}

/**
 * Payouts and the provider's events about them. Lock order: a payout before its transaction (the
 * ledger then takes the transaction, its hold and its account). Calls to the provider happen
 * between the statements here, never inside a transaction that holds a payout's lock: a due
 * payout is claimed by a lease, and what the call came to is written only if the payout is still
 * as it was claimed (same status, same attempt).
 */
@Injectable()
export class PayoutRepository {
  /** The payouts of withdrawals the ledger has just put on hold, one per transaction (ids given). */
  async insertFor(manager: EntityManager, transactionIds: string[]): Promise<void> {
    if (transactionIds.length === 0) return;
    await manager.query(
      `INSERT INTO payouts (transaction_id, tenant_id, account_id, hold_id, amount, currency)
       SELECT id, tenant_id, source_account_id, hold_id, amount, currency FROM transactions
        WHERE id = ANY($1::text[]) AND type = 'withdrawal' AND status = 'processing' AND hold_id IS NOT NULL
       ON CONFLICT (transaction_id) DO NOTHING`,
      [transactionIds],
    );
  }

  async find(manager: EntityManager | DataSource, transactionId: string): Promise<PayoutRecord | null> {
    const rows: PayoutRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM payouts WHERE transaction_id = $1`,
      [transactionId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Up to `limit` queued payouts whose attempt is due, leased for `leaseMs` and their attempt
   * counted (a payout leased by another dispatcher is skipped; one whose lease ran out — its
   * dispatcher died mid-call — is due again).
   */
  async claimDue(dataSource: DataSource, limit: number, leaseMs: number): Promise<PayoutRecord[]> {
    const [rows]: [PayoutRow[], number] = await dataSource.query(
      `UPDATE payouts p SET attempts = p.attempts + 1, lease_until = now() + make_interval(secs => $2 / 1000.0),
              updated_at = now()
        WHERE p.transaction_id IN (
          SELECT transaction_id FROM payouts
           WHERE status = 'queued' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until <= now())
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING ${P_COLUMNS}`,
      [limit, leaseMs],
    );
    return rows.map(toRecord);
  }

  /** Up to `limit` accepted payouts whose outcome is overdue, leased for `leaseMs` (to be polled). */
  async claimOverdue(dataSource: DataSource, limit: number, leaseMs: number): Promise<PayoutRecord[]> {
    const [rows]: [PayoutRow[], number] = await dataSource.query(
      `UPDATE payouts p SET outcome_due_at = now() + make_interval(secs => $2 / 1000.0), updated_at = now()
        WHERE p.transaction_id IN (
          SELECT transaction_id FROM payouts WHERE status = 'accepted' AND outcome_due_at <= now()
           ORDER BY outcome_due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING ${P_COLUMNS}`,
      [limit, leaseMs],
    );
    return rows.map(toRecord);
  }

  /**
   * What one attempt came to, written only if the payout is still the attempt's (queued, this
   * attempt): accepted (outcome expected by `outcomeDueAt`), queued again for `retryAt`, or
   * unknown. False when something else got there first.
   */
  async recordAttempt(
    dataSource: DataSource,
    claimed: Pick<PayoutRecord, 'transactionId' | 'attempts'>,
    result:
      | { status: 'accepted'; providerPayoutId: string; outcomeDueAt: Date }
      | { status: 'queued'; retryAt: Date; error: string }
      | { status: 'unknown'; error: string },
  ): Promise<boolean> {
    const [, count]: [unknown, number] = await dataSource.query(
      `UPDATE payouts SET status = $3, lease_until = NULL, updated_at = now(),
              provider_payout_id = coalesce($4, provider_payout_id),
              outcome_due_at = coalesce($5, outcome_due_at),
              next_attempt_at = coalesce($6, next_attempt_at),
              last_error = CASE WHEN $3 = 'accepted' THEN NULL ELSE $7 END
        WHERE transaction_id = $1 AND attempts = $2 AND status = 'queued'`,
      [
        claimed.transactionId,
        claimed.attempts,
        result.status,
        result.status === 'accepted' ? result.providerPayoutId : null,
        result.status === 'accepted' ? result.outcomeDueAt : null,
        result.status === 'queued' ? result.retryAt : null,
        result.status === 'accepted' ? null : result.error,
      ],
    );
    return count === 1;
  }

  /** Gives a claimed payout back without counting its attempt (the breaker stopped the call). */
  async release(dataSource: DataSource, claimed: Pick<PayoutRecord, 'transactionId' | 'attempts'>) {
    await dataSource.query(
      `UPDATE payouts SET attempts = attempts - 1, lease_until = NULL, updated_at = now()
        WHERE transaction_id = $1 AND attempts = $2 AND status = 'queued'`,
      [claimed.transactionId, claimed.attempts],
    );
  }

  /** The payout, locked: its outcome is decided under this lock, so it is applied once. */
  async lock(manager: EntityManager, transactionId: string): Promise<PayoutRecord | null> {
    const rows: PayoutRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM payouts WHERE transaction_id = $1 FOR UPDATE`,
      [transactionId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** The payout's final status (its lock is held), with the provider's id when now known. */
  async finish(
    manager: EntityManager,
    transactionId: string,
    status: 'succeeded' | 'failed',
    providerPayoutId: string | null,
    error: string | null,
  ): Promise<void> {
    await manager.query(
      `UPDATE payouts SET status = $2, provider_payout_id = coalesce($3, provider_payout_id),
              last_error = coalesce($4, last_error), lease_until = NULL, settled_at = now(), updated_at = now()
        WHERE transaction_id = $1`,
      [transactionId, status, providerPayoutId, error],
    );
  }

  /** Payouts in one status (operators' reconciliation queue: `unknown`), oldest change first. */
  async listByStatus(
    manager: EntityManager | DataSource,
    status: PayoutStatus,
    limit: number,
  ): Promise<PayoutRecord[]> {
    const rows: PayoutRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM payouts WHERE status = $1 ORDER BY updated_at LIMIT $2`,
      [status, limit],
    );
    return rows.map(toRecord);
  }

  /** Records a provider webhook; false when this event id was recorded before (a duplicate). */
  async recordEvent(
    manager: EntityManager | DataSource,
    event: Omit<ProviderEventRecord, 'attempts'> & { payload: string },
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO provider_events (id, type, payout_id, reference, status, payload)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [event.id, event.type, event.payoutId, event.reference, event.status, event.payload],
    );
    return rows.length === 1;
  }

  /**
   * The oldest unapplied events, locked (SKIP LOCKED: one dispatcher each). An event set aside
   * after a failure waits for its retry time, and a later event of the same payout waits for it:
   * one payout's events apply in the order received.
   */
  async claimEvents(manager: EntityManager, limit: number): Promise<ProviderEventRecord[]> {
    const rows: {
      id: string;
      type: string;
      payout_id: string | null;
      reference: string | null;
      status: string | null;
      attempts: number;
    }[] = await manager.query(
      `SELECT e.id, e.type, e.payout_id, e.reference, e.status, e.attempts FROM provider_events e
        WHERE e.applied_at IS NULL AND (e.retry_at IS NULL OR e.retry_at <= now())
          AND NOT EXISTS (
            SELECT 1 FROM provider_events b
             WHERE b.reference = e.reference AND b.applied_at IS NULL
               AND (b.received_at, b.id) < (e.received_at, e.id))
        ORDER BY e.received_at, e.id LIMIT $1 FOR UPDATE OF e SKIP LOCKED`,
      [limit],
    );
    return rows.map((r) => ({
      id: r.id,
      type: r.type,
      payoutId: r.payout_id,
      reference: r.reference,
      status: r.status,
      attempts: r.attempts,
    }));
  }

  async markEventApplied(manager: EntityManager, id: string): Promise<void> {
    await manager.query(`UPDATE provider_events SET applied_at = now() WHERE id = $1`, [id]);
  }

  /** An event whose application failed: set aside until `retryAt`, with the error kept. */
  async markEventFailed(
    dataSource: DataSource | EntityManager,
    id: string,
    error: string,
    retryAt: Date,
  ): Promise<void> {
    await dataSource.query(
      `UPDATE provider_events SET attempts = attempts + 1, last_error = left($2, 2000), retry_at = $3
        WHERE id = $1 AND applied_at IS NULL`,
      [id, error, retryAt],
    );
  }

  /** Payouts created since `since` that the provider has been asked to pay (not just queued). */
  async listSentSince(dataSource: DataSource | EntityManager, since: Date): Promise<PayoutRecord[]> {
    const rows: PayoutRow[] = await dataSource.query(
      `SELECT ${COLUMNS} FROM payouts WHERE created_at >= $1 AND status <> 'queued' ORDER BY created_at`,
      [since],
    );
    return rows.map(toRecord);
  }

  /**
   * Records what reconciliation (or a contradicting event) found: a new mismatch is added, an
   * open one brought up to date. A resolved one is left alone while the same mismatch is found
   * again, and reopened when a different one is (another kind, provider status or provider
   * payout — say the provider paid, later, a payout an operator settled as failed): one row per
   * withdrawal, so leaving it closed would hide the new finding. A pending approval is dropped
   * when what it was asked about changed; the operators' audit log keeps the history.
   */
  async recordMismatches(dataSource: DataSource | EntityManager, found: PayoutMismatch[]): Promise<void> {
    if (found.length === 0) return;
    const same = `(payout_mismatches.kind, payout_mismatches.provider_status, payout_mismatches.provider_payout_id)
                  IS NOT DISTINCT FROM (excluded.kind, excluded.provider_status, excluded.provider_payout_id)`;
    const keptIfSame = (column: string) =>
      `${column} = CASE WHEN ${same} THEN payout_mismatches.${column} END`;
    await dataSource.query(
      `INSERT INTO payout_mismatches (transaction_id, tenant_id, kind, tally_status, provider_status, provider_payout_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
       ON CONFLICT (transaction_id) DO UPDATE SET kind = excluded.kind, tally_status = excluded.tally_status,
              provider_status = excluded.provider_status, provider_payout_id = excluded.provider_payout_id,
              found_at = CASE WHEN payout_mismatches.resolved_at IS NULL THEN payout_mismatches.found_at ELSE now() END,
              resolved_at = NULL, resolved_by = NULL, resolution = NULL,
              ${keptIfSame('approval_requested_by')}, ${keptIfSame('approval_requested_at')},
              ${keptIfSame('approval_outcome')}, ${keptIfSame('approval_reason')}
        WHERE payout_mismatches.resolved_at IS NULL OR NOT ${same}`,
      [
        found.map((m) => m.transactionId),
        found.map((m) => m.tenantId),
        found.map((m) => m.kind),
        found.map((m) => m.tallyStatus),
        found.map((m) => m.providerStatus),
        found.map((m) => m.providerPayoutId),
      ],
    );
  }

  async resolveMismatch(
    manager: EntityManager,
    transactionId: string,
    operatorId: string,
    resolution: string,
  ) {
    await manager.query(
      `UPDATE payout_mismatches SET resolved_at = now(), resolved_by = $2, resolution = $3 WHERE transaction_id = $1`,
      [transactionId, operatorId, resolution],
    );
  }

  /**
   * A page of open mismatches, newest first by withdrawal id (`before`: the last id of the
   * previous page), each with its payout's amount and any settlement waiting for approval.
   */
  async mismatchPage(
    db: DataSource | EntityManager,
    before: string | null,
    limit: number,
  ): Promise<MismatchListing[]> {
    const rows: {
      transaction_id: string;
      tenant_id: string;
      kind: MismatchKind;
      tally_status: PayoutStatus;
      provider_status: string | null;
      provider_payout_id: string | null;
      found_at: Date;
      amount: string;
      currency: string;
      approval_requested_by: string | null;
      approval_requested_by_email: string | null;
      approval_requested_at: Date | null;
      approval_outcome: 'succeeded' | 'failed' | null;
      approval_reason: string | null;
    }[] = await db.query(
      `SELECT m.transaction_id, m.tenant_id, m.kind, m.tally_status, m.provider_status, m.provider_payout_id,
              m.found_at, p.amount::text AS amount, p.currency, m.approval_requested_by,
              o.email AS approval_requested_by_email, m.approval_requested_at, m.approval_outcome, m.approval_reason
         FROM payout_mismatches m
         JOIN payouts p ON p.transaction_id = m.transaction_id
         LEFT JOIN operators o ON o.id = m.approval_requested_by
        WHERE m.resolved_at IS NULL AND ($1::text IS NULL OR m.transaction_id < $1)
        ORDER BY m.transaction_id DESC LIMIT $2`,
      [before, limit],
    );
    return rows.map((r) => ({
      transactionId: r.transaction_id,
      tenantId: r.tenant_id,
      kind: r.kind,
      tallyStatus: r.tally_status,
      providerStatus: r.provider_status,
      providerPayoutId: r.provider_payout_id,
      foundAt: r.found_at,
      amount: BigInt(r.amount),
      currency: r.currency,
      pendingApproval: r.approval_requested_by
        ? {
            requestedBy: r.approval_requested_by,
            requestedByEmail: r.approval_requested_by_email,
            requestedAt: r.approval_requested_at!,
            outcome: r.approval_outcome,
            reason: r.approval_reason!,
          }
        : null,
    }));
  }

  /**
   * A mismatch, open or resolved, locked, with its payout's amount and any pending settlement.
   * The payout's row is locked first: the order every path takes (a provider event contradicting a
   * final payout locks the payout, then records the mismatch), so an operator's settlement and
   * such an event cannot deadlock.
   */
  async lockMismatch(manager: EntityManager, transactionId: string): Promise<LockedMismatch | null> {
    await this.lock(manager, transactionId);
    const rows: {
      resolved_at: Date | null;
      amount: string;
      currency: string;
      approval_requested_by: string | null;
      approval_outcome: 'succeeded' | 'failed' | null;
      approval_reason: string | null;
    }[] = await manager.query(
      `SELECT m.resolved_at, p.amount::text AS amount, p.currency, m.approval_requested_by,
              m.approval_outcome, m.approval_reason
         FROM payout_mismatches m JOIN payouts p ON p.transaction_id = m.transaction_id
        WHERE m.transaction_id = $1 FOR UPDATE OF m`,
      [transactionId],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      resolved: r.resolved_at !== null,
      amount: BigInt(r.amount),
      currency: r.currency,
      pendingApproval: r.approval_requested_by
        ? { requestedBy: r.approval_requested_by, outcome: r.approval_outcome, reason: r.approval_reason! }
        : null,
    };
  }

  /** A settlement waiting for a second operator (one per mismatch). */
  async requestMismatchApproval(
    manager: EntityManager,
    transactionId: string,
    request: { requestedBy: string; outcome: 'succeeded' | 'failed' | null; reason: string },
  ): Promise<void> {
    await manager.query(
      `UPDATE payout_mismatches SET approval_requested_by = $2, approval_requested_at = now(),
              approval_outcome = $3, approval_reason = $4
        WHERE transaction_id = $1`,
      [transactionId, request.requestedBy, request.outcome, request.reason],
    );
  }

  /** The pending settlement dropped (rejected); the mismatch stays open. */
  async clearMismatchApproval(manager: EntityManager, transactionId: string): Promise<void> {
    await manager.query(
      `UPDATE payout_mismatches SET approval_requested_by = NULL, approval_requested_at = NULL,
              approval_outcome = NULL, approval_reason = NULL
        WHERE transaction_id = $1`,
      [transactionId],
    );
  }
}
