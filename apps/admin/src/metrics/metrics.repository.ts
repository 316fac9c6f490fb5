import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { idFloor } from '#domain';

/**
 * The dashboard's numbers from the database, cheap enough to ask every few seconds: windows are id
 * or time ranges on indexes.
 */
@Injectable()
export class MetricsRepository {
  /** Per transaction type since `since`: counts by outcome and latency percentiles (ms). */
  async transactions(manager: EntityManager, since: Date, tenantId: string | null) {
    return manager.query(
      `SELECT type, count(*)::int AS total,
              count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE status IN ('pending', 'processing'))::int AS open,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - created_at) * 1000)
                FILTER (WHERE completed_at IS NOT NULL) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - created_at) * 1000)
                FILTER (WHERE completed_at IS NOT NULL) AS p95,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - created_at) * 1000)
                FILTER (WHERE completed_at IS NOT NULL) AS p99
         FROM transactions WHERE id >= $1 AND ($2::text IS NULL OR tenant_id = $2)
        GROUP BY type ORDER BY type`,
      [idFloor('txn', since.getTime()), tenantId],
    ) as Promise<
      {
        type: string;
        total: number;
        succeeded: number;
        failed: number;
        open: number;
        p50: number | null;
        p95: number | null;
        p99: number | null;
      }[]
    >;
  }

  /** Per usage event type processed since `since`: billing outcomes and latency percentiles (ms). */
  async usage(manager: EntityManager, since: Date, tenantId: string | null) {
    return manager.query(
      `SELECT p.type, count(*)::int AS processed,
              count(*) FILTER (WHERE p.billing_status = 'charged')::int AS charged,
              count(*) FILTER (WHERE billing_status = 'unbilled')::int AS unbilled,
              coalesce(sum(amount) FILTER (WHERE billing_status = 'charged'), 0)::text AS amount,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM p.processed_at - e.received_at) * 1000) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM p.processed_at - e.received_at) * 1000) AS p95,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM p.processed_at - e.received_at) * 1000) AS p99
         FROM usage_processed p JOIN usage_events e ON e.tenant_id = p.tenant_id AND e.id = p.event_id
        WHERE p.processed_at >= $1 AND ($2::text IS NULL OR p.tenant_id = $2)
        GROUP BY p.type ORDER BY p.type`,
      [since, tenantId],
    ) as Promise<
      {
        type: string;
        processed: number;
        charged: number;
        unbilled: number;
        amount: string;
        p50: number | null;
        p95: number | null;
        p99: number | null;
      }[]
    >;
  }

  /** The unpublished backlog and the publish lag (ms) since `since`. */
  async outbox(manager: EntityManager, since: Date) {
    const [row] = await manager.query(
      `SELECT (SELECT count(*)::int FROM outbox WHERE published_at IS NULL) AS backlog,
              (SELECT EXTRACT(EPOCH FROM now() - min(created_at)) FROM outbox WHERE published_at IS NULL) AS oldest_seconds,
              (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM published_at - created_at) * 1000)
                 FROM outbox WHERE published_at >= $1) AS lag_p50,
              (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM published_at - created_at) * 1000)
                 FROM outbox WHERE published_at >= $1) AS lag_p99`,
      [since],
    );
    return row as { backlog: number; oldest_seconds: unknown; lag_p50: unknown; lag_p99: unknown };
  }

  /** Webhook deliveries created since `since`, by status. */
  async webhooks(manager: EntityManager, since: Date, tenantId: string | null) {
    const [row] = await manager.query(
      `SELECT count(*)::int AS deliveries,
              count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*) FILTER (WHERE status = 'pending')::int AS pending
         FROM webhook_deliveries WHERE created_at >= $1 AND ($2::text IS NULL OR tenant_id = $2)`,
      [since, tenantId],
    );
    return row as { deliveries: number; succeeded: number; failed: number; pending: number };
  }

  async pendingDeadLetters(manager: EntityManager): Promise<number> {
    const [row] = await manager.query(
      `SELECT count(*)::int AS pending FROM dead_letters WHERE status = 'pending'`,
    );
    return row.pending;
  }
}
