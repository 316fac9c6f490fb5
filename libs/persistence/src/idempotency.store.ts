import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/** An Idempotency-Key's row: the request's fingerprint and the answer it got. */
export interface StoredAnswer {
  fingerprint: string;
  response_status: number;
  response_body: string;
  response_headers: Record<string, string>;
}

export interface AnswerRow {
  tenantId: string;
  key: string;
  fingerprint: string;
  status: number;
  /** JSON text of the body (sealed, when it carries a secret). */
  body: string;
  headers: Record<string, string>;
}

/**
 * The SQL that takes (tenant, key)'s transaction-scoped advisory lock without waiting, answering
 * whether it got it. Written here only: every path that writes under a key takes the same lock,
 * so a request on the batched accept path and one on the per-request path exclude each other.
 * The arguments are SQL expressions (parameters or columns).
 */
export function idempotencyKeyLock(tenantIdSql: string, keySql: string): string {
  return `pg_try_advisory_xact_lock(hashtextextended(${tenantIdSql} || ':' || ${keySql}, 0))`;
}

/**
 * The only owner of idempotency_keys: reads and writes a key's row and takes its lock. What a
 * key means (fingerprints, replays, which refusals are kept) is the gateway's IdempotencyService.
 */
@Injectable()
export class IdempotencyStore {
  /** Takes the key's lock (inside `manager`'s transaction) and reads its row in one round trip. */
  async lockAndFind(
    manager: EntityManager,
    tenantId: string,
    key: string,
  ): Promise<{ locked: boolean; stored: StoredAnswer | null }> {
    const [row]: { locked: boolean; stored: StoredAnswer | null }[] = await manager.query(
      `SELECT ${idempotencyKeyLock('$1', '$2')} AS locked,
              (SELECT row_to_json(k) FROM (SELECT fingerprint, response_status, response_body, response_headers
                 FROM idempotency_keys WHERE tenant_id = $1 AND key = $2) k) AS stored`,
      [tenantId, key],
    );
    return row;
  }

  async find(manager: EntityManager, tenantId: string, key: string): Promise<StoredAnswer | null> {
    const rows: StoredAnswer[] = await manager.query(
      `SELECT fingerprint, response_status, response_body, response_headers
         FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`,
      [tenantId, key],
    );
    return rows[0] ?? null;
  }

  /**
   * Stores the key's answer. `strict`: a row already there fails the statement (the key's primary
   * key is what makes the work happen once); `ignore`: answers false instead.
   */
  async insert(manager: EntityManager, row: AnswerRow, conflict: 'strict' | 'ignore'): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, response_body, response_headers)
       VALUES ($1, $2, $3, $4, $5, $6) ${conflict === 'ignore' ? 'ON CONFLICT (tenant_id, key) DO NOTHING' : ''}
       RETURNING 1`,
      [row.tenantId, row.key, row.fingerprint, row.status, row.body, JSON.stringify(row.headers)],
    );
    return rows.length > 0;
  }

  /**
   * Answers that may hold a secret: sealed ones, and any kept in clear before such answers were
   * sealed (for re-encryption under the current key).
   */
  async answersWithSecrets(
    manager: EntityManager,
    tenantId: string | null,
  ): Promise<{ tenant_id: string; key: string; response_body: string }[]> {
    return manager.query(
      `SELECT tenant_id, key, response_body FROM idempotency_keys
        WHERE ($1::text IS NULL OR tenant_id = $1)
          AND (response_body LIKE 'enc:v1:%' OR response_body LIKE '%"secret":"whsec%')`,
      [tenantId],
    );
  }

  /** Replaces an answer's body only if it is still `was` (answers whether it did). */
  async replaceBody(
    manager: EntityManager,
    tenantId: string,
    key: string,
    body: string,
    was: string,
  ): Promise<boolean> {
    const [, count]: [unknown, number] = await manager.query(
      `UPDATE idempotency_keys SET response_body = $3 WHERE tenant_id = $1 AND key = $2 AND response_body = $4`,
      [tenantId, key, body, was],
    );
    return count > 0;
  }

  /** Forgets up to `limit` keys older than `hours`; answers how many. */
  async forgetOlderThan(dataSource: DataSource, hours: number, limit = 10_000): Promise<number> {
    const [, deleted]: [unknown, number] = await dataSource.query(
      `DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1) LIMIT $2))`,
      [hours, limit],
    );
    return deleted;
  }
}
