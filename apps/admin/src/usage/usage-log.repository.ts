import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface UsageLogFilter {
  tenantId?: string;
  accountId?: string;
  apiKeyId?: string;
  type?: string;
  status?: string;
  from?: string;
  to?: string;
  /** Exclusive: where the previous page ended. */
  after?: { receivedAt: string; tenantId: string; id: string };
  limit: number;
}

export interface UsageEventRow {
  tenantId: string;
  id: string;
  type: string;
  accountId: string | null;
  apiKeyId: string | null;
  occurredAt: Date;
  receivedAt: Date;
  status: string;
  properties: Record<string, unknown>;
  category: string | null;
  billingStatus: string | null;
  amount: string | null;
  currency: string | null;
  unbilledCode: string | null;
  transactionId: string | null;
  failureCode: string | null;
  failureReason: string | null;
  /** received_at to the microsecond: where this row is in the list's order. */
  position: string;
}

/** Usage events as operators read them, with how each was billed or why it failed. */
@Injectable()
export class UsageLogRepository {
  /** Newest received first, by (received_at, tenant, id): pages neither repeat nor skip a row. */
  async list(manager: EntityManager, f: UsageLogFilter): Promise<UsageEventRow[]> {
    return manager.query(
      `SELECT e.tenant_id AS "tenantId", e.id, e.type, e.account_id AS "accountId", e.api_key_id AS "apiKeyId",
              e.occurred_at AS "occurredAt", e.received_at AS "receivedAt", e.status, e.properties,
              p.category, p.billing_status AS "billingStatus", p.amount::text, p.currency, p.unbilled_code AS "unbilledCode",
              p.transaction_id AS "transactionId", f.code AS "failureCode", f.reason AS "failureReason",
              to_char(e.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
         FROM usage_events e
         LEFT JOIN usage_processed p ON p.tenant_id = e.tenant_id AND p.event_id = e.id
         LEFT JOIN usage_failed f ON f.tenant_id = e.tenant_id AND f.event_id = e.id
        WHERE ($1::text IS NULL OR e.tenant_id = $1) AND ($2::text IS NULL OR e.account_id = $2)
          AND ($3::text IS NULL OR e.api_key_id = $3) AND ($4::text IS NULL OR e.type = $4)
          AND ($5::text IS NULL OR e.status = $5)
          AND ($6::timestamptz IS NULL OR e.received_at >= $6) AND ($7::timestamptz IS NULL OR e.received_at < $7)
          AND ($9::timestamptz IS NULL OR (e.received_at, e.tenant_id, e.id) < ($9, $10::text, $11::text))
        ORDER BY e.received_at DESC, e.tenant_id DESC, e.id DESC LIMIT $8`,
      [
        f.tenantId ?? null,
        f.accountId ?? null,
        f.apiKeyId ?? null,
        f.type ?? null,
        f.status ?? null,
        f.from ?? null,
        f.to ?? null,
        f.limit,
        f.after?.receivedAt ?? null,
        f.after?.tenantId ?? null,
        f.after?.id ?? null,
      ],
    );
  }

  /**
   * Sets a failed event back to `received` for processing again. Answers the event's status when
   * it was not failed, or null when there is no such event.
   */
  async reopenFailed(
    manager: EntityManager,
    tenantId: string,
    id: string,
  ): Promise<{ reopened: true } | { reopened: false; status: string | null }> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE usage_events SET status = 'received' WHERE tenant_id = $1 AND id = $2 AND status = 'failed' RETURNING status`,
      [tenantId, id],
    );
    if (rows.length === 1) return { reopened: true };
    const [row]: { status: string }[] = await manager.query(
      `SELECT status FROM usage_events WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return { reopened: false, status: row?.status ?? null };
  }
}
