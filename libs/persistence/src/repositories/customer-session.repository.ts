import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** A refresh token, found by its hash and locked, with its session as it stands. */
export interface LockedRefreshToken {
  sessionId: string;
  tenantId: string;
  accountId: string;
  used: boolean;
  /** The session was revoked (a reused refresh token), has ended, or its tenant is suspended. */
  sessionOver: boolean;
  expiresAt: Date;
}

/** Storefronts' customer sessions and their refresh tokens (only SHA-256 hashes are stored). */
@Injectable()
export class CustomerSessionRepository {
  async create(
    manager: EntityManager,
    s: { id: string; tenantId: string; accountId: string; ttlSeconds: number },
  ): Promise<{ expiresAt: Date }> {
    const [row] = await manager.query(
      `INSERT INTO customer_sessions (id, tenant_id, account_id, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at AS "expiresAt"`,
      [s.id, s.tenantId, s.accountId, s.ttlSeconds],
    );
    return row;
  }

  async addRefreshToken(manager: EntityManager, sessionId: string, tokenHash: Buffer): Promise<void> {
    await manager.query(`INSERT INTO customer_refresh_tokens (token_hash, session_id) VALUES ($1, $2)`, [
      tokenHash,
      sessionId,
    ]);
  }

  /**
   * The refresh token with this hash, locked until the transaction ends: of two refreshes with
   * the same token, the second waits here and then sees the first one's `used_at`.
   */
  async lockRefreshToken(manager: EntityManager, tokenHash: Buffer): Promise<LockedRefreshToken | null> {
    const [row] = await manager.query(
      `SELECT s.id AS "sessionId", s.tenant_id AS "tenantId", s.account_id AS "accountId",
              r.used_at IS NOT NULL AS used, s.expires_at AS "expiresAt",
              (s.revoked_at IS NOT NULL OR s.expires_at <= now() OR t.status <> 'active') AS "sessionOver"
         FROM customer_refresh_tokens r
         JOIN customer_sessions s ON s.id = r.session_id
         JOIN tenants t ON t.id = s.tenant_id
        WHERE r.token_hash = $1
          FOR UPDATE OF r`,
      [tokenHash],
    );
    return row ?? null;
  }

  async spend(manager: EntityManager, tokenHash: Buffer): Promise<void> {
    await manager.query(`UPDATE customer_refresh_tokens SET used_at = now() WHERE token_hash = $1`, [
      tokenHash,
    ]);
  }

  /** Ends the session at once: its access tokens and its refresh tokens stop working. */
  async revoke(manager: EntityManager, sessionId: string, reason: 'refresh_token_reused'): Promise<void> {
    await manager.query(
      `UPDATE customer_sessions
          SET revoked_at = now(), revoked_reason = $2, expires_at = least(expires_at, now())
        WHERE id = $1 AND revoked_at IS NULL`,
      [sessionId, reason],
    );
  }

  /**
   * Whether the session of an access token is live: not revoked, not ended, its tenant active,
   * and the token's tenant and account are the session's. One primary-key lookup.
   */
  async isLive(
    manager: EntityManager,
    s: { sessionId: string; tenantId: string; accountId: string },
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM customer_sessions s JOIN tenants t ON t.id = s.tenant_id
        WHERE s.id = $1 AND s.tenant_id = $2 AND s.account_id = $3
          AND s.revoked_at IS NULL AND s.expires_at > now() AND t.status = 'active'`,
      [s.sessionId, s.tenantId, s.accountId],
    );
    return rows.length > 0;
  }

  /** Deletes up to `limit` sessions that ended more than a day ago (their tokens go with them). */
  async deleteEnded(manager: EntityManager, limit: number): Promise<number> {
    // A revoked session's expires_at is its revocation time: one index serves both.
    const [, count]: [unknown, number] = await manager.query(
      `DELETE FROM customer_sessions WHERE id IN (
         SELECT id FROM customer_sessions WHERE expires_at < now() - interval '1 day' LIMIT $1)`,
      [limit],
    );
    return count;
  }
}
