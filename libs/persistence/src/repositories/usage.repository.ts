import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface IncomingUsageEvent {
  id: string;
  type: string;
  accountId: string | null;
  occurredAt: Date;
  /** The properties as JSON text (bigint-exact). */
  propertiesJson: string;
}

export interface StoredUsageEvent {
  tenantId: string;
  id: string;
  type: string;
  accountId: string | null;
  occurredAt: Date;
  /** JSON text, for a lossless parse. */
  propertiesJson: string;
  status: 'received' | 'processed' | 'failed';
  correlationId: string | null;
  receivedAt: Date;
}

export interface ProcessedUsage {
  tenantId: string;
  eventId: string;
  type: string;
  accountId: string | null;
  occurredAt: Date;
  category: string;
  workerId: string;
  meterId: string | null;
  quantity: bigint | null;
  amount: bigint | null;
  currency: string | null;
  billingStatus: 'charged' | 'unbilled' | 'not_metered';
  unbilledCode: string | null;
  unbilledReason: string | null;
  transactionId: string | null;
}

export interface FailedUsage {
  tenantId: string;
  eventId: string;
  code: string;
  reason: string;
  workerId: string;
}

export interface UsageEventDetail extends StoredUsageEvent {
  processed: (ProcessedUsage & { processedAt: Date }) | null;
  failed: (FailedUsage & { failedAt: Date }) | null;
}

export interface UsageEventQuery {
  type?: string;
  accountId?: string;
  status?: StoredUsageEvent['status'];
  /** received_at range, [from, to). */
  from?: Date;
  to?: Date;
  /** Exclusive: the last event of the previous page (receivedAt to the microsecond, ISO). */
  after?: { receivedAt: string; id: string };
  limit: number;
}

export interface ListedUsageEvent extends UsageEventDetail {
  position: { receivedAt: string; id: string };
}

export interface UsageEventStats {
  key: string;
  received: number;
  pending: number;
  processed: number;
  failed: number;
  failureReasons: { code: string; count: number }[];
}

export interface UsageAggregate {
  key: string;
  eventType: string | null;
  currency: string | null;
  events: number;
  quantity: bigint;
  amount: bigint;
  unbilledEvents: number;
}

interface EventRow {
  tenant_id: string;
  id: string;
  type: string;
  account_id: string | null;
  occurred_at: Date;
  properties: string;
  status: StoredUsageEvent['status'];
  correlation_id: string | null;
  received_at: Date;
}

const EVENT_COLUMNS = `tenant_id, id, type, account_id, occurred_at, properties::text AS properties, status,
  correlation_id, received_at`;

function toEvent(row: EventRow): StoredUsageEvent {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    type: row.type,
    accountId: row.account_id,
    occurredAt: row.occurred_at,
    propertiesJson: row.properties,
    status: row.status,
    correlationId: row.correlation_id,
    receivedAt: row.received_at,
  };
}

const big = (v: string | null) => (v === null ? null : BigInt(v));
const text = (v: bigint | null) => (v === null ? null : v.toString());

const DETAIL_COLUMNS = `e.tenant_id, e.id, e.type, e.account_id, e.occurred_at, e.properties::text AS properties, e.status,
  e.correlation_id, e.received_at, p.category, p.worker_id, p.processed_at, p.meter_id, p.quantity::text AS quantity,
  p.amount::text AS amount, p.currency, p.billing_status, p.unbilled_code, p.unbilled_reason,
  p.transaction_id, f.code AS failed_code, f.reason AS failed_reason, f.worker_id AS failed_worker,
  f.failed_at`;

/** received_at to the microsecond (a JS Date keeps milliseconds only): a cursor's exact position. */
const POSITION = `to_char(e.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * A stats bucket: grouped by this expression (the one `CREATE STATISTICS` of migration EventQueries
 * describes, so the planner knows the day and hour buckets are few and hashes them), and shown as
 * `label` gives it.
 */
const STATS_KEYS: Record<'type' | 'hour' | 'day', { group: string; label: (k: string) => string }> = {
  type: { group: 'e.type', label: (k) => k },
  hour: {
    group: `date_trunc('hour', e.received_at AT TIME ZONE 'UTC')`,
    label: (k) => `to_char(${k}, 'YYYY-MM-DD"T"HH24":00:00Z"')`,
  },
  day: {
    group: `date_trunc('day', e.received_at AT TIME ZONE 'UTC')`,
    label: (k) => `to_char(${k}, 'YYYY-MM-DD')`,
  },
};

type DetailRow = EventRow & Record<string, unknown>;

function toDetail(row: DetailRow): UsageEventDetail {
  const event = toEvent(row);
  const { tenantId, id } = event;
  return {
    ...event,
    processed: row.billing_status
      ? {
          tenantId,
          eventId: id,
          type: event.type,
          accountId: event.accountId,
          occurredAt: event.occurredAt,
          category: row.category as string,
          workerId: row.worker_id as string,
          processedAt: row.processed_at as Date,
          meterId: row.meter_id as string | null,
          quantity: big(row.quantity as string | null),
          amount: big(row.amount as string | null),
          currency: row.currency as string | null,
          billingStatus: row.billing_status as ProcessedUsage['billingStatus'],
          unbilledCode: row.unbilled_code as string | null,
          unbilledReason: row.unbilled_reason as string | null,
          transactionId: row.transaction_id as string | null,
        }
      : null,
    failed: row.failed_code
      ? {
          tenantId,
          eventId: id,
          code: row.failed_code as string,
          reason: row.failed_reason as string,
          workerId: row.failed_worker as string,
          failedAt: row.failed_at as Date,
        }
      : null,
  };
}

/**
 * The condition that selects `usage_events` rows by tenant and ids (the two parameters named):
 * one primary-key probe per id, then the rows by their physical address (a TID scan), whatever
 * the table's statistics say. As `tenant_id = $1 AND id = ANY($2) AND status = 'received'`, the
 * claim was planned on the pending events' partial indexes (`usage_events_open_*`), which hold an
 * entry for each event processed since the last VACUUM until a plain index scan marks it dead (a
 * status update is never heap-only, and a bitmap scan marks nothing): its cost grew with the events
 * processed before it. Simpler rewrites scanned the tenant's whole key range on a table without
 * statistics. docs/performance.md has the plans and figures.
 *
 * A caller that tests `status` writes `(status = 'received') IS TRUE`: a plain equality lets the
 * planner take a partial index again. A row that another transaction changed while this statement
 * waited for its lock is skipped, whatever its new status: PostgreSQL rechecks a TID scan's address
 * against the newer version (current minor releases; PostgreSQL 15.20 here). That is the outcome a
 * claim needs from a concurrent claim (the row is now processed or failed). The one other writer,
 * an operator's rerun of a failed event (`reopenFailed`), sends its own command for the event.
 */
const eventRows = (tenant: string, ids: string) =>
  `ctid = ANY (ARRAY(SELECT (SELECT e.ctid FROM usage_events e WHERE e.tenant_id = ${tenant} AND e.id = i.id)
                     FROM unnest(${ids}::text[]) AS i(id)))`;

/** Usage events as received (the audit trail), and what processing made of them. */
@Injectable()
export class UsageRepository {
  /**
   * Stores the events that are new for this tenant and answers their ids; an id already stored
   * (earlier, by a concurrent request, or twice in this batch) is left alone: a duplicate.
   */
  async insertNew(
    manager: EntityManager,
    tenantId: string,
    events: IncomingUsageEvent[],
    meta: { apiKeyId: string | null; correlationId: string | null },
  ): Promise<string[]> {
    if (events.length === 0) return [];
    const rows: { id: string }[] = await manager.query(
      `INSERT INTO usage_events (tenant_id, id, type, account_id, occurred_at, properties, api_key_id, correlation_id)
       SELECT $1, e.id, e.type, e.account_id, e.occurred_at, e.properties, $6, $7
         FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $8::jsonb[])
              WITH ORDINALITY AS e(id, type, account_id, occurred_at, properties, n)
        ORDER BY e.n
       ON CONFLICT (tenant_id, id) DO NOTHING
       RETURNING id`,
      [
        tenantId,
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => e.accountId),
        events.map((e) => e.occurredAt),
        meta.apiKeyId,
        meta.correlationId,
        events.map((e) => e.propertiesJson),
      ],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Claims the events of a tenant still waiting to be processed: one UPDATE marks them `processed`
   * and answers them (`status` as now written). Its row locks make a claim exactly-once: a
   * concurrent claim of the same events waits, then finds them no longer `received` and skips them.
   * The caller marks the ones that fail its checks with markFailed, in the same transaction. One
   * statement where a lock (`SELECT … FOR NO KEY UPDATE`) and an update were two: each of those
   * wrote every row (its lock, then its new version). Unlike that lock's `ORDER BY id`, an UPDATE
   * does not fix the order it locks rows in; claims of the same events come from one command
   * delivered again and take the same plan, and a deadlock would be retried like any transient
   * error.
   *
   * The rows are found by primary key ({@link eventRows} says why); `status` is tested on the rows
   * found, never used to find them.
   */
  async claimReceived(manager: EntityManager, tenantId: string, ids: string[]): Promise<StoredUsageEvent[]> {
    if (ids.length === 0) return [];
    // TypeORM answers an UPDATE … RETURNING as [rows, affected].
    const [rows]: [EventRow[], number] = await manager.query(
      `UPDATE usage_events SET status = 'processed'
        WHERE ${eventRows('$1', '$2')} AND (status = 'received') IS TRUE
        RETURNING ${EVENT_COLUMNS}`,
      [tenantId, [...new Set(ids)].sort()],
    );
    return rows.map(toEvent);
  }

  /** Marks claimed events failed and records why, in two statements (none when there are none). */
  async markFailed(manager: EntityManager, tenantId: string, failed: FailedUsage[]): Promise<void> {
    if (failed.length === 0) return;
    await manager.query(
      `INSERT INTO usage_failed (tenant_id, event_id, code, reason, worker_id)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT (tenant_id, event_id) DO UPDATE
         SET code = excluded.code, reason = excluded.reason, worker_id = excluded.worker_id, failed_at = now()`,
      [
        tenantId,
        failed.map((f) => f.eventId),
        failed.map((f) => f.code),
        failed.map((f) => f.reason),
        failed.map((f) => f.workerId),
      ],
    );
    await manager.query(`UPDATE usage_events SET status = 'failed' WHERE ${eventRows('$1', '$2')}`, [
      tenantId,
      failed.map((f) => f.eventId),
    ]);
  }

  /**
   * The processed rows of a set of events, in one statement: a priced row as charged by the
   * transaction id chosen for it, which must exist by the commit (the foreign key is deferred).
   */
  async insertProcessed(
    manager: EntityManager,
    tenantId: string,
    processed: ProcessedUsage[],
  ): Promise<void> {
    if (processed.length === 0) return;
    await manager.query(
      `INSERT INTO usage_processed (tenant_id, event_id, type, account_id, occurred_at, category, worker_id,
           meter_id, quantity, amount, currency, billing_status, unbilled_code, unbilled_reason, transaction_id)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[],
           $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[])`,
      [
        tenantId,
        processed.map((p) => p.eventId),
        processed.map((p) => p.type),
        processed.map((p) => p.accountId),
        processed.map((p) => p.occurredAt),
        processed.map((p) => p.category),
        processed.map((p) => p.workerId),
        processed.map((p) => p.meterId),
        processed.map((p) => text(p.quantity)),
        processed.map((p) => text(p.amount)),
        processed.map((p) => p.currency),
        processed.map((p) => p.billingStatus),
        processed.map((p) => p.unbilledCode),
        processed.map((p) => p.unbilledReason),
        processed.map((p) => p.transactionId),
      ],
    );
  }

  /**
   * Unbilled events of a tenant among `ids`, locked (FOR NO KEY UPDATE, in id order) with what
   * they were priced at, for a re-bill: an event charged meanwhile is no longer among them.
   */
  async lockUnbilled(
    manager: EntityManager,
    tenantId: string,
    ids: string[],
  ): Promise<(ProcessedUsage & { correlationId: string | null })[]> {
    if (ids.length === 0) return [];
    const rows: {
      event_id: string;
      type: string;
      account_id: string | null;
      occurred_at: Date;
      category: string;
      worker_id: string;
      meter_id: string | null;
      quantity: string | null;
      amount: string | null;
      currency: string | null;
      unbilled_code: string | null;
      unbilled_reason: string | null;
      correlation_id: string | null;
    }[] = await manager.query(
      `SELECT p.event_id, p.type, p.account_id, p.occurred_at, p.category, p.worker_id, p.meter_id,
              p.quantity::text AS quantity, p.amount::text AS amount, p.currency, p.unbilled_code,
              p.unbilled_reason, e.correlation_id
         FROM usage_processed p JOIN usage_events e ON e.tenant_id = p.tenant_id AND e.id = p.event_id
        WHERE p.tenant_id = $1 AND p.event_id = ANY($2::text[]) AND p.billing_status = 'unbilled'
        ORDER BY p.event_id FOR NO KEY UPDATE OF p`,
      [tenantId, [...new Set(ids)]],
    );
    return rows.map((r) => ({
      tenantId,
      eventId: r.event_id,
      type: r.type,
      accountId: r.account_id,
      occurredAt: r.occurred_at,
      category: r.category,
      workerId: r.worker_id,
      meterId: r.meter_id,
      quantity: big(r.quantity),
      amount: big(r.amount),
      currency: r.currency,
      billingStatus: 'unbilled',
      unbilledCode: r.unbilled_code,
      unbilledReason: r.unbilled_reason,
      transactionId: null,
      correlationId: r.correlation_id,
    }));
  }

  /** Unbilled event ids of a tenant (optionally one account) that occurred in [from, to), oldest first. */
  async unbilledIds(
    manager: EntityManager,
    tenantId: string,
    q: { accountId: string | null; from: Date; to: Date; limit: number },
  ): Promise<string[]> {
    const rows: { event_id: string }[] = await manager.query(
      `SELECT event_id FROM usage_processed
        WHERE tenant_id = $1 AND billing_status = 'unbilled' AND ($2::text IS NULL OR account_id = $2)
          AND occurred_at >= $3 AND occurred_at < $4
        ORDER BY occurred_at, event_id LIMIT $5`,
      [tenantId, q.accountId, q.from, q.to, q.limit],
    );
    return rows.map((r) => r.event_id);
  }

  /**
   * Rewrites processed rows' billing (charged with its transaction, or unbilled and why) in one
   * statement (none when there are none): a re-bill's outcomes, or the charges a wallet could not pay.
   */
  async setBilling(manager: EntityManager, tenantId: string, rows: ProcessedUsage[]): Promise<void> {
    if (rows.length === 0) return;
    await manager.query(
      `UPDATE usage_processed p SET billing_status = d.status, unbilled_code = d.code, unbilled_reason = d.reason,
              transaction_id = d.transaction_id
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
              AS d(event_id, status, code, reason, transaction_id)
        WHERE p.tenant_id = $1 AND p.event_id = d.event_id`,
      [
        tenantId,
        rows.map((r) => r.eventId),
        rows.map((r) => r.billingStatus),
        rows.map((r) => r.unbilledCode),
        rows.map((r) => r.unbilledReason),
        rows.map((r) => r.transactionId),
      ],
    );
  }

  /** One event with what became of it, or null. */
  async find(manager: EntityManager, tenantId: string, id: string): Promise<UsageEventDetail | null> {
    const rows: DetailRow[] = await manager.query(
      `SELECT ${DETAIL_COLUMNS}
         FROM usage_events e
         LEFT JOIN usage_processed p ON p.tenant_id = e.tenant_id AND p.event_id = e.id
         LEFT JOIN usage_failed f ON f.tenant_id = e.tenant_id AND f.event_id = e.id
        WHERE e.tenant_id = $1 AND e.id = $2`,
      [tenantId, id],
    );
    return rows[0] ? toDetail(rows[0]) : null;
  }

  /**
   * A page of a tenant's events, newest received first, by (received_at, id) — a total order, so
   * pages neither repeat nor skip an event. `after` is the last position of the previous page.
   * Each filter is served by an index in this order (migration EventQueries).
   */
  async list(manager: EntityManager, tenantId: string, q: UsageEventQuery): Promise<ListedUsageEvent[]> {
    const params: unknown[] = [tenantId];
    const where = ['tenant_id = $1'];
    const add = (sql: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (q.type !== undefined) add((n) => `type = ${n}`, q.type);
    if (q.accountId !== undefined) add((n) => `account_id = ${n}`, q.accountId);
    if (q.status !== undefined) add((n) => `status = ${n}`, q.status);
    if (q.from !== undefined) add((n) => `received_at >= ${n}`, q.from);
    if (q.to !== undefined) add((n) => `received_at < ${n}`, q.to);
    if (q.after !== undefined) {
      params.push(q.after.receivedAt, q.after.id);
      where.push(`(received_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(q.limit);
    const rows: (DetailRow & { position_at: string })[] = await manager.query(
      `SELECT ${DETAIL_COLUMNS}, ${POSITION} AS position_at
         FROM (SELECT * FROM usage_events WHERE ${where.join(' AND ')}
                ORDER BY received_at DESC, id DESC LIMIT $${params.length}) e
         LEFT JOIN usage_processed p ON p.tenant_id = e.tenant_id AND p.event_id = e.id
         LEFT JOIN usage_failed f ON f.tenant_id = e.tenant_id AND f.event_id = e.id
        ORDER BY e.received_at DESC, e.id DESC`,
      params,
    );
    return rows.map((r) => ({ ...toDetail(r), position: { receivedAt: r.position_at, id: r.id } }));
  }

  /**
   * Counts of a tenant's events received in [from, to), by type, UTC hour or UTC day: received,
   * pending, processed and failed, and the failed ones by code. Two statements, each one range
   * scan of an index (the main list index, and the partial one of pending and failed events).
   */
  async stats(
    manager: EntityManager,
    tenantId: string,
    q: { from: Date; to: Date; groupBy: 'type' | 'hour' | 'day' },
  ): Promise<UsageEventStats[]> {
    const { group, label } = STATS_KEYS[q.groupBy];
    const counts: { key: string; received: number; pending: number; processed: number; failed: number }[] =
      await manager.query(
        `SELECT ${label('s.k')} AS key, s.received, s.pending, s.processed, s.failed
           FROM (SELECT ${group} AS k, count(*)::int AS received,
                        (count(*) FILTER (WHERE e.status = 'received'))::int AS pending,
                        (count(*) FILTER (WHERE e.status = 'processed'))::int AS processed,
                        (count(*) FILTER (WHERE e.status = 'failed'))::int AS failed
                   FROM usage_events e
                  WHERE e.tenant_id = $1 AND e.received_at >= $2 AND e.received_at < $3
                  GROUP BY 1) s
          ORDER BY s.k`,
        [tenantId, q.from, q.to],
      );
    const reasons: { key: string; code: string; n: number }[] = await manager.query(
      `SELECT ${label('s.k')} AS key, s.code, s.n
         FROM (SELECT ${group} AS k, f.code, count(*)::int AS n
                 FROM usage_events e
                 JOIN usage_failed f ON f.tenant_id = e.tenant_id AND f.event_id = e.id
                WHERE e.tenant_id = $1 AND e.status = 'failed' AND e.received_at >= $2 AND e.received_at < $3
                GROUP BY 1, 2) s
        ORDER BY s.k, s.n DESC, s.code`,
      [tenantId, q.from, q.to],
    );
    const byKey = new Map<string, { code: string; count: number }[]>();
    for (const r of reasons) {
      const list = byKey.get(r.key) ?? [];
      list.push({ code: r.code, count: r.n });
      byKey.set(r.key, list);
    }
    return counts.map((c) => ({ ...c, failureReasons: byKey.get(c.key) ?? [] }));
  }

  /**
   * Metered usage of a tenant (optionally one account) over [from, to), by day (UTC) or by meter:
   * events, quantity, the amount charged, and how many events went unbilled.
   */
  async aggregate(
    manager: EntityManager,
    tenantId: string,
    q: { accountId?: string; from: Date; to: Date; groupBy: 'day' | 'meter' },
  ): Promise<UsageAggregate[]> {
    const key =
      q.groupBy === 'day'
        ? `to_char(date_trunc('day', p.occurred_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')`
        : 'p.meter_id';
    const rows: {
      key: string;
      event_type: string | null;
      currency: string | null;
      events: number;
      quantity: string;
      amount: string;
      unbilled: number;
    }[] = await manager.query(
      `SELECT ${key} AS key,
              ${q.groupBy === 'meter' ? 'min(m.event_type)' : 'NULL'} AS event_type,
              ${q.groupBy === 'meter' ? 'min(m.currency)' : 'CASE WHEN count(DISTINCT p.currency) = 1 THEN min(p.currency) END'} AS currency,
              count(*)::int AS events,
              coalesce(sum(p.quantity), 0)::text AS quantity,
              coalesce(sum(p.amount) FILTER (WHERE p.billing_status = 'charged'), 0)::text AS amount,
              (count(*) FILTER (WHERE p.billing_status = 'unbilled'))::int AS unbilled
         FROM usage_processed p
         LEFT JOIN meters m ON m.id = p.meter_id
        WHERE p.tenant_id = $1 AND p.meter_id IS NOT NULL
          AND ($2::text IS NULL OR p.account_id = $2)
          AND p.occurred_at >= $3 AND p.occurred_at < $4
        GROUP BY 1 ORDER BY 1`,
      [tenantId, q.accountId ?? null, q.from, q.to],
    );
    return rows.map((r) => ({
      key: r.key,
      eventType: r.event_type,
      currency: r.currency,
      events: r.events,
      quantity: BigInt(r.quantity),
      amount: BigInt(r.amount),
      unbilledEvents: r.unbilled,
    }));
  }
}
