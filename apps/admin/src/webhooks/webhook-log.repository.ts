import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface EndpointRow {
  id: string;
  tenantId: string;
  url: string;
  eventTypes: string[];
  status: string;
  disabledReason: string | null;
  failingSince: Date | null;
  createdAt: Date;
  failed: number;
  pending: number;
}

export interface DeliveryRow {
  id: string;
  tenantId: string;
  endpointId: string;
  url: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: Date;
  createdAt: Date;
  completedAt: Date | null;
}

/** Webhook endpoints and deliveries across tenants, as operators read them. */
@Injectable()
export class WebhookLogRepository {
  /** Newest first, older than `before`, with their failed and pending deliveries counted. */
  async endpoints(
    manager: EntityManager,
    f: { tenantId?: string; before?: string; limit: number },
  ): Promise<EndpointRow[]> {
    return manager.query(
      `SELECT e.id, e.tenant_id AS "tenantId", e.url, e.event_types AS "eventTypes", e.status,
              e.disabled_reason AS "disabledReason", e.failing_since AS "failingSince", e.created_at AS "createdAt",
              (SELECT count(*)::int FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'failed') AS failed,
              (SELECT count(*)::int FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS pending
         FROM webhook_endpoints e WHERE e.deleted_at IS NULL AND ($1::text IS NULL OR e.tenant_id = $1)
          AND ($2::text IS NULL OR e.id < $2)
        ORDER BY e.id DESC LIMIT $3`,
      [f.tenantId ?? null, f.before ?? null, f.limit],
    );
  }

  /** Newest first. */
  async deliveries(
    manager: EntityManager,
    f: { tenantId?: string; endpointId?: string; status?: string; before?: string; limit: number },
  ): Promise<DeliveryRow[]> {
    return manager.query(
      `SELECT d.id, d.tenant_id AS "tenantId", d.endpoint_id AS "endpointId", e.url, d.event_id AS "eventId",
              d.event_type AS "eventType", d.status, d.attempts, d.last_status AS "lastStatus", d.last_error AS "lastError",
              d.next_attempt_at AS "nextAttemptAt", d.created_at AS "createdAt", d.completed_at AS "completedAt"
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE ($1::text IS NULL OR d.tenant_id = $1) AND ($2::text IS NULL OR d.endpoint_id = $2)
          AND ($3::text IS NULL OR d.status = $3) AND ($5::text IS NULL OR d.id < $5)
        ORDER BY d.id DESC LIMIT $4`,
      [f.tenantId ?? null, f.endpointId ?? null, f.status ?? null, f.limit, f.before ?? null],
    );
  }
}
