import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { newId } from '#domain';

export interface DeadLetterFilter {
  status?: 'pending' | 'replayed' | 'discarded';
  /** The queue that failed it, or its dead-letter queue. */
  queue?: string;
  type?: string;
  errorCode?: string;
  tenantId?: string;
}

/** A stored dead letter as it is replayed: what went out, to where. */
export interface DeadLetterMessage {
  id: string;
  exchange: string;
  routing_key: string;
  message_id: string;
  message_type: string | null;
  correlation_id: string | null;
  payload: string;
  headers: Record<string, unknown>;
  status: string;
}

export interface NewDeadLetter {
  dlq: string;
  failedQueue: string | null;
  messageId: string;
  messageType: string | null;
  exchange: string;
  routingKey: string;
  correlationId: string | null;
  tenantId: string | null;
  payload: string;
  headers: Record<string, unknown>;
  error: string | null;
  errorCode: string | null;
  attempts: number | null;
  failedAt: string | null;
}

const COLUMNS = `id, dlq AS "dlq", failed_queue AS "failedQueue", message_id AS "messageId", message_type AS "type",
  exchange, routing_key AS "routingKey", correlation_id AS "correlationId", tenant_id AS "tenantId", error,
  error_code AS "errorCode", attempts, failed_at AS "failedAt", status, replays, resolved_at AS "resolvedAt",
  resolution, created_at AS "createdAt"`;

const WHERE = `($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR failed_queue = $2 OR dlq = $2)
  AND ($3::text IS NULL OR message_type = $3) AND ($4::text IS NULL OR error_code = $4)
  AND ($5::text IS NULL OR tenant_id = $5)`;

const filterParams = (f: DeadLetterFilter) => [
  f.status ?? null,
  f.queue ?? null,
  f.type ?? null,
  f.errorCode ?? null,
  f.tenantId ?? null,
];

/** The dead-letter store: messages every queue gave up on, kept until replayed or discarded. */
@Injectable()
export class DeadLetterRepository {
  /**
   * Stores a dead letter once: a redelivered copy is recognised by its queue, message id and
   * failure time (then nothing is written).
   */
  async store(manager: EntityManager, d: NewDeadLetter): Promise<void> {
    await manager.query(
      `INSERT INTO dead_letters (id, dlq, failed_queue, message_id, message_type, exchange, routing_key,
         correlation_id, tenant_id, payload, headers, error, error_code, attempts, failed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, coalesce($15::timestamptz, now()))
       ON CONFLICT (dlq, message_id, failed_at) DO NOTHING`,
      [
        newId('dl'),
        d.dlq,
        d.failedQueue,
        d.messageId,
        d.messageType,
        d.exchange,
        d.routingKey,
        d.correlationId,
        d.tenantId,
        d.payload,
        JSON.stringify(d.headers),
        d.error,
        d.errorCode,
        d.attempts,
        d.failedAt,
      ],
    );
  }

  /** Newest first, `before` an id. */
  async list(
    manager: EntityManager,
    f: DeadLetterFilter & { before?: string; limit: number },
  ): Promise<({ id: string } & Record<string, unknown>)[]> {
    return manager.query(
      `SELECT ${COLUMNS} FROM dead_letters WHERE ${WHERE} AND ($6::text IS NULL OR id < $6) ORDER BY id DESC LIMIT $7`,
      [...filterParams(f), f.before ?? null, f.limit],
    );
  }

  /** One dead letter with its payload and headers, as operators inspect it. */
  async detail(manager: EntityManager, id: string): Promise<Record<string, unknown> | null> {
    const [row] = await manager.query(`SELECT ${COLUMNS}, payload, headers FROM dead_letters WHERE id = $1`, [
      id,
    ]);
    return row ?? null;
  }

  async message(manager: EntityManager, id: string): Promise<DeadLetterMessage | null> {
    const [row] = await manager.query(`SELECT * FROM dead_letters WHERE id = $1`, [id]);
    return row ?? null;
  }

  /** The oldest pending dead letters matching `f`, at most `limit`. */
  async pendingMatching(
    manager: EntityManager,
    f: DeadLetterFilter,
    limit: number,
  ): Promise<DeadLetterMessage[]> {
    return manager.query(
      `SELECT * FROM dead_letters WHERE ${WHERE} AND status = 'pending' ORDER BY id LIMIT $6`,
      [...filterParams(f), limit],
    );
  }

  async markReplayed(manager: EntityManager, id: string, why: string): Promise<void> {
    await manager.query(
      `UPDATE dead_letters SET status = 'replayed', replays = replays + 1, resolved_at = now(), resolution = $2
        WHERE id = $1`,
      [id, why],
    );
  }

  /** False when there is no such dead letter, or it is discarded already. */
  async discard(manager: EntityManager, id: string, why: string): Promise<boolean> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE dead_letters SET status = 'discarded', resolved_at = now(), resolution = $2
        WHERE id = $1 AND status <> 'discarded' RETURNING id`,
      [id, why],
    );
    return rows.length === 1;
  }
}
