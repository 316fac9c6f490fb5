import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface TenantRow {
  id: string;
  name: string;
  status: 'active' | 'disabled';
  notificationEmail: string | null;
  createdAt: Date;
  activeKeys: number;
}

export interface ApiKeyRow {
  id: string;
  prefix: string;
  name: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Tenants and their API keys (only the keys' hashes are stored). */
@Injectable()
export class TenantRepository {
  /** Newest first (ids grow with time), older than `before`. */
  async list(
    manager: EntityManager,
    f: { status?: string; before?: string; limit: number },
  ): Promise<TenantRow[]> {
    return manager.query(
      `SELECT t.id, t.name, t.status, t.notification_email AS "notificationEmail", t.created_at AS "createdAt",
              (SELECT count(*)::int FROM api_keys k WHERE k.tenant_id = t.id AND k.revoked_at IS NULL) AS "activeKeys"
         FROM tenants t WHERE ($1::text IS NULL OR t.status = $1) AND ($2::text IS NULL OR t.id < $2)
        ORDER BY t.id DESC LIMIT $3`,
      [f.status ?? null, f.before ?? null, f.limit],
    );
  }

  async exists(manager: EntityManager, id: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM tenants WHERE id = $1`, [id]);
    return rows.length === 1;
  }

  /** False when there is no such tenant. */
  async setStatus(manager: EntityManager, id: string, status: 'active' | 'disabled'): Promise<boolean> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE tenants SET status = $2 WHERE id = $1 RETURNING id`,
      [id, status],
    );
    return rows.length === 1;
  }

  /** False when there is no such tenant. */
  async setNotificationEmail(manager: EntityManager, id: string, email: string | null): Promise<boolean> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE tenants SET notification_email = $2 WHERE id = $1 RETURNING id`,
      [id, email],
    );
    return rows.length === 1;
  }

  /** The tenant's keys, newest first; null when there is no such tenant. */
  async keysOf(manager: EntityManager, tenantId: string): Promise<ApiKeyRow[] | null> {
    if (!(await this.exists(manager, tenantId))) return null;
    return manager.query(
      `SELECT id, prefix, name, created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"
         FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC`,
      [tenantId],
    );
  }

  async insertKey(
    manager: EntityManager,
    k: { id: string; tenantId: string; prefix: string; hash: Buffer; name: string | null },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO api_keys (id, tenant_id, prefix, key_hash, name) VALUES ($1, $2, $3, $4, $5)`,
      [k.id, k.tenantId, k.prefix, k.hash, k.name],
    );
  }

  /** Revokes the key (once: a second revocation keeps the first time); false when there is no such key. */
  async revokeKey(manager: EntityManager, tenantId: string, keyId: string): Promise<boolean> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND tenant_id = $2 RETURNING id`,
      [keyId, tenantId],
    );
    return rows.length === 1;
  }
}
