import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { newId, noteArrival, type ArrivalCursor } from '#domain';
import { SecretBox } from '../secret-box.js';

export interface WebhookEndpointRecord {
  id: string;
  tenantId: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  secret: string;
  /** The secret before the last rotation, while it still signs. */
  previousSecret: string | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface EndpointRow {
  id: string;
  tenant_id: string;
  url: string;
  description: string | null;
  event_types: string[];
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

const ENDPOINT_COLUMNS = `id, tenant_id, url, description, event_types, status, disabled_reason, secret,
  CASE WHEN previous_secret_until > now() THEN previous_secret END AS previous_secret, failing_since,
  created_at, updated_at`;

function toEndpoint(r: EndpointRow, box: SecretBox): WebhookEndpointRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    description: r.description,
    eventTypes: r.event_types,
    status: r.status,
    disabledReason: r.disabled_reason,
    secret: box.open(r.secret, r.id),
    previousSecret: r.previous_secret === null ? null : box.open(r.previous_secret, r.id),
    failingSince: r.failing_since,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface DeliveryRecord {
  id: string;
  tenantId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  accountId: string | null;
  /** The event's number among its account's events (null: about no account, or unnumbered). */
  accountSeq: bigint | null;
  payload: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  nextAttemptAt: Date;
  lastStatus: number | null;
  lastError: string | null;
  correlationId: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

export interface AttemptRecord {
  attempt: number;
  attemptedAt: string;
  statusCode: number | null;
  latencyMs: number;
  responseSnippet: string | null;
  error: string | null;
}

interface DeliveryRow {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  account_id: string | null;
  account_seq: string | null;
  payload: string;
  status: DeliveryRecord['status'];
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  correlation_id: string | null;
  created_at: Date;
  completed_at: Date | null;
}

const DELIVERY_COLUMNS = `d.id, d.tenant_id, d.endpoint_id, d.event_id, d.event_type, d.account_id, d.account_seq, d.payload, d.status,
  d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.correlation_id, d.created_at, d.completed_at`;

function toDelivery(r: DeliveryRow): DeliveryRecord {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    eventType: r.event_type,
    accountId: r.account_id,
    accountSeq: r.account_seq === null ? null : BigInt(r.account_seq),
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    correlationId: r.correlation_id,
    createdAt: r.created_at,
    completedAt: r.completed_at,
  };
}

/** Webhook endpoints and their deliveries. Every read is tenant-scoped; deleted endpoints are gone. */
@Injectable()
export class WebhookRepository {
  constructor(@Inject(SecretBox) private readonly box: SecretBox) {}

  async createEndpoint(
    manager: EntityManager,
    e: { tenantId: string; url: string; description: string | null; eventTypes: string[]; secret: string },
  ): Promise<WebhookEndpointRecord> {
    const id = newId('whe');
    const [row]: EndpointRow[] = await manager.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, description, event_types, secret)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ENDPOINT_COLUMNS}`,
      [id, e.tenantId, e.url, e.description, e.eventTypes, this.box.seal(e.secret, id)],
    );
    return toEndpoint(row, this.box);
  }

  async findEndpoint(
    manager: EntityManager,
    tenantId: string,
    id: string,
  ): Promise<WebhookEndpointRecord | null> {
    const rows: EndpointRow[] = await manager.query(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL`,
      [id, tenantId],
    );
    return rows[0] ? toEndpoint(rows[0], this.box) : null;
  }

  async listEndpoints(
    manager: EntityManager,
    tenantId: string,
    page: { before?: string; limit: number },
  ): Promise<WebhookEndpointRecord[]> {
    const rows: EndpointRow[] = await manager.query(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
        WHERE tenant_id = $1 AND deleted_at IS NULL AND ($2::text IS NULL OR id < $2)
        ORDER BY id DESC LIMIT $3`,
      [tenantId, page.before ?? null, page.limit],
    );
    return rows.map((r) => toEndpoint(r, this.box));
  }

  /** Changes what is given; enabling clears the reason it was disabled and its failure streak. */
  async updateEndpoint(
    manager: EntityManager,
    tenantId: string,
    id: string,
    patch: {
      url?: string;
      description?: string | null;
      eventTypes?: string[];
      status?: 'enabled' | 'disabled';
    },
  ): Promise<WebhookEndpointRecord | null> {
    const [rows]: [EndpointRow[], number] = await manager.query(
      `UPDATE webhook_endpoints SET
          url = coalesce($3, url),
          description = CASE WHEN $4 THEN $5 ELSE description END,
          event_types = coalesce($6, event_types),
          status = coalesce($7, status),
          disabled_reason = CASE WHEN $7 = 'enabled' THEN NULL WHEN $7 = 'disabled' THEN 'disabled by the tenant' ELSE disabled_reason END,
          failing_since = CASE WHEN $7 = 'enabled' THEN NULL ELSE failing_since END,
          updated_at = now()
        WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL
        RETURNING ${ENDPOINT_COLUMNS}`,
      [
        id,
        tenantId,
        patch.url ?? null,
        patch.description !== undefined,
        patch.description ?? null,
        patch.eventTypes ?? null,
        patch.status ?? null,
      ],
    );
    return rows[0] ? toEndpoint(rows[0], this.box) : null;
  }

  async deleteEndpoint(manager: EntityManager, tenantId: string, id: string): Promise<boolean> {
    const [, count]: [unknown, number] = await manager.query(
      `UPDATE webhook_endpoints SET deleted_at = now(), status = 'disabled', disabled_reason = 'deleted', updated_at = now()
        WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL`,
      [id, tenantId],
    );
    return count > 0;
  }

  /** A new secret; the old one keeps signing (alongside) for `overlapMs`. */
  async rotateSecret(
    manager: EntityManager,
    tenantId: string,
    id: string,
    secret: string,
    overlapMs: number,
  ): Promise<WebhookEndpointRecord | null> {
    const [rows]: [EndpointRow[], number] = await manager.query(
      `UPDATE webhook_endpoints SET previous_secret = secret, secret = $3,
              previous_secret_until = now() + make_interval(secs => $4), updated_at = now()
        WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL
        RETURNING ${ENDPOINT_COLUMNS}`,
      [id, tenantId, this.box.seal(secret, id), overlapMs / 1000],
    );
    return rows[0] ? toEndpoint(rows[0], this.box) : null;
  }

  /** The tenant's enabled endpoints that want this event type (no filter: every type). */
  async subscribers(
    manager: EntityManager,
    tenantId: string,
    eventType: string,
  ): Promise<WebhookEndpointRecord[]> {
    const rows: EndpointRow[] = await manager.query(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
        WHERE tenant_id = $1 AND status = 'enabled' AND deleted_at IS NULL
          AND (cardinality(event_types) = 0 OR $2 = ANY(event_types))`,
      [tenantId, eventType],
    );
    return rows.map((r) => toEndpoint(r, this.box));
  }

  /** One delivery per (event, endpoint): a redelivered event adds nothing. Answers how many are new. */
  async createDeliveries(
    manager: EntityManager,
    rows: Omit<
      DeliveryRecord,
      | 'id'
      | 'status'
      | 'attempts'
      | 'nextAttemptAt'
      | 'lastStatus'
      | 'lastError'
      | 'createdAt'
      | 'completedAt'
    >[],
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const inserted: unknown[] = await manager.query(
      `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, account_id, payload, correlation_id,
         account_seq)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
         $9::bigint[])
       ON CONFLICT (event_id, endpoint_id) DO NOTHING RETURNING id`,
      [
        rows.map(() => newId('dlv')),
        rows.map((r) => r.tenantId),
        rows.map((r) => r.endpointId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.eventType),
        rows.map((r) => r.accountId),
        rows.map((r) => r.payload),
        rows.map((r) => r.correlationId),
        rows.map((r) => r.accountSeq?.toString() ?? null),
      ],
    );
    return inserted.length;
  }

  /**
   * Records that events about accounts have arrived (see ArrivalCursor), in two statements whatever
   * their number: each account's cursor is locked (in account id order, as every consumer takes
   * them: concurrent consumers of one account's events take turns) and advanced past its events in
   * the order given.
   */
  async noteArrivals(
    manager: EntityManager,
    arrivals: { accountId: string; seq: bigint }[],
    waitMs: number,
  ): Promise<void> {
    if (arrivals.length === 0) return;
    const seqs = new Map<string, bigint[]>();
    for (const a of arrivals) {
      const list = seqs.get(a.accountId);
      if (list) list.push(a.seq);
      else seqs.set(a.accountId, [a.seq]);
    }
    const accountIds = [...seqs.keys()].sort();
    const rows: {
      account_id: string;
      contiguous: string;
      ahead: string[];
      gap_since: Date | null;
      now: Date;
    }[] = await manager.query(
      `INSERT INTO webhook_account_cursors (account_id) SELECT * FROM unnest($1::text[]) ORDER BY 1
         ON CONFLICT (account_id) DO UPDATE SET account_id = excluded.account_id
         RETURNING account_id, contiguous, ahead::text[] AS ahead, gap_since, now() AS now`,
      [accountIds],
    );
    const next = rows.map((row) => {
      let cursor: ArrivalCursor = {
        contiguous: BigInt(row.contiguous),
        ahead: row.ahead.map(BigInt),
        gapSince: row.gap_since,
      };
      for (const seq of seqs.get(row.account_id)!) cursor = noteArrival(cursor, seq, row.now, waitMs);
      return { accountId: row.account_id, cursor };
    });
    await manager.query(
      `UPDATE webhook_account_cursors c SET contiguous = d.contiguous, ahead = d.ahead::bigint[], gap_since = d.gap_since
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[]) AS d(account_id, contiguous, ahead, gap_since)
        WHERE c.account_id = d.account_id`,
      [
        next.map((n) => n.accountId),
        next.map((n) => n.cursor.contiguous.toString()),
        next.map((n) => `{${n.cursor.ahead.join(',')}}`),
        next.map((n) => n.cursor.gapSince),
      ],
    );
  }

  /**
   * Leases up to `limit` due deliveries of enabled endpoints for `leaseMs` (a crashed sender's
   * lease runs out and the delivery is tried again). Deliveries about one account reach each
   * endpoint in the order the account's events were written (their number), not as they arrived
   * here: one waits while an earlier one to the same endpoint is pending (being sent or retried;
   * once done or dead it no longer holds the next back), and while an earlier event about the
   * account has not arrived at all — for `orderWaitMs` at most. Other endpoints are not held back;
   * deliveries about no account (or unnumbered ones) are in arrival order only behind unnumbered ones.
   */
  async leaseDue(
    dataSource: DataSource,
    limit: number,
    leaseMs: number,
    orderWaitMs: number,
  ): Promise<{ delivery: DeliveryRecord; endpoint: WebhookEndpointRecord }[]> {
    const [rows]: [(DeliveryRow & { endpoint: EndpointRow })[], number] = await dataSource.query(
      `WITH due AS (
         SELECT d.id FROM webhook_deliveries d
           JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'enabled' AND e.deleted_at IS NULL
           LEFT JOIN webhook_account_cursors c ON d.account_seq IS NOT NULL AND c.account_id = d.account_id
          WHERE d.status = 'pending' AND d.next_attempt_at <= now()
            AND (d.lease_until IS NULL OR d.lease_until < now())
            AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries p
               WHERE p.status = 'pending' AND p.endpoint_id = d.endpoint_id AND p.account_id = d.account_id
                 AND CASE WHEN d.account_seq IS NOT NULL AND p.account_seq IS NOT NULL
                          THEN p.account_seq < d.account_seq ELSE p.seq < d.seq END)
            AND (d.account_seq IS NULL OR c.account_id IS NULL OR c.contiguous >= d.account_seq
                 OR d.created_at <= now() - make_interval(secs => $3))
          ORDER BY d.next_attempt_at, d.seq
          LIMIT $1
            FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE webhook_deliveries d SET lease_until = now() + make_interval(secs => $2)
         FROM due WHERE d.id = due.id
       RETURNING ${DELIVERY_COLUMNS},
         (SELECT row_to_json(x) FROM (SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = d.endpoint_id) x) AS endpoint`,
      [limit, leaseMs / 1000, orderWaitMs / 1000],
    );
    return rows.map((r) => ({
      delivery: toDelivery(r),
      endpoint: toEndpoint(
        {
          ...r.endpoint,
          failing_since: r.endpoint.failing_since ? new Date(r.endpoint.failing_since) : null,
          created_at: new Date(r.endpoint.created_at),
          updated_at: new Date(r.endpoint.updated_at),
        },
        this.box,
      ),
    }));
  }

  /** Logs an attempt and moves the delivery on: succeeded, due again at `retryAt`, or failed for good. */
  async recordAttempt(
    dataSource: DataSource,
    delivery: DeliveryRecord,
    attempt: Omit<AttemptRecord, 'attemptedAt'>,
    next: { status: 'succeeded' } | { status: 'pending'; retryAt: Date } | { status: 'failed' },
  ): Promise<void> {
    await dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO webhook_attempts (delivery_id, attempt, status_code, latency_ms, response_snippet, error)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          delivery.id,
          attempt.attempt,
          attempt.statusCode,
          attempt.latencyMs,
          attempt.responseSnippet,
          attempt.error,
        ],
      );
      await manager.query(
        `UPDATE webhook_deliveries SET status = $2, attempts = $3, last_status = $4, last_error = $5,
                next_attempt_at = coalesce($6, next_attempt_at), lease_until = NULL,
                completed_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
          WHERE id = $1`,
        [
          delivery.id,
          next.status,
          attempt.attempt,
          attempt.statusCode,
          attempt.error,
          next.status === 'pending' ? next.retryAt : null,
        ],
      );
    });
  }

  /** Records the endpoint's health after an attempt; answers since when it has been failing (null: healthy). */
  async noteHealth(dataSource: DataSource, endpointId: string, ok: boolean): Promise<Date | null> {
    const [rows]: [{ failing_since: Date | null }[], number] = await dataSource.query(
      `UPDATE webhook_endpoints SET failing_since = CASE WHEN $2 THEN NULL ELSE coalesce(failing_since, now()) END
        WHERE id = $1 RETURNING failing_since`,
      [endpointId, ok],
    );
    return rows[0]?.failing_since ?? null;
  }

  /** Disables an enabled endpoint; true only for the call that disabled it (so it is announced once). */
  async disable(dataSource: DataSource, endpointId: string, reason: string): Promise<boolean> {
    const [, count]: [unknown, number] = await dataSource.query(
      `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, updated_at = now()
        WHERE id = $1 AND status = 'enabled'`,
      [endpointId, reason],
    );
    return count > 0;
  }

  async listDeliveries(
    manager: EntityManager,
    tenantId: string,
    endpointId: string,
    page: { before?: string; limit: number },
  ): Promise<(DeliveryRecord & { attemptLog: AttemptRecord[] })[]> {
    const rows: (DeliveryRow & { attempt_log: AttemptRecord[] })[] = await manager.query(
      `SELECT ${DELIVERY_COLUMNS},
              coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'attemptedAt', a.attempted_at,
                 'statusCode', a.status_code, 'latencyMs', a.latency_ms, 'responseSnippet', a.response_snippet,
                 'error', a.error) ORDER BY a.id) FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]') AS attempt_log
         FROM webhook_deliveries d
        WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND ($3::text IS NULL OR d.id < $3)
        ORDER BY d.id DESC LIMIT $4`,
      [tenantId, endpointId, page.before ?? null, page.limit],
    );
    return rows.map((r) => ({ ...toDelivery(r), attemptLog: r.attempt_log }));
  }

  /** Sends a delivery again from the start of the schedule; false when there is no such delivery. */
  async retry(
    manager: EntityManager,
    tenantId: string,
    endpointId: string,
    deliveryId: string,
  ): Promise<boolean> {
    const [, count]: [unknown, number] = await manager.query(
      `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL,
              completed_at = NULL
        WHERE id = $1 AND endpoint_id = $2 AND tenant_id = $3`,
      [deliveryId, endpointId, tenantId],
    );
    return count > 0;
  }

  /**
   * Sends a delivery again from the start of its schedule, whoever's it is (operators: a
   * redelivery, a replayed dead letter); false when there is no such delivery.
   */
  async resend(manager: EntityManager, deliveryId: string): Promise<boolean> {
    const [, count]: [unknown, number] = await manager.query(
      `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL,
              completed_at = NULL
        WHERE id = $1`,
      [deliveryId],
    );
    return count > 0;
  }

  /** Sends again every delivery to this endpoint that failed since `since`; answers how many. */
  async recover(manager: EntityManager, tenantId: string, endpointId: string, since: Date): Promise<number> {
    const [, count]: [unknown, number] = await manager.query(
      `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL,
              completed_at = NULL
        WHERE endpoint_id = $1 AND tenant_id = $2 AND status = 'failed' AND created_at >= $3`,
      [endpointId, tenantId, since],
    );
    return count;
  }
}
