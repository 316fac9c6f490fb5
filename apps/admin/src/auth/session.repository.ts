import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Role } from './auth.service.js';

export interface RefreshTokenRow {
  id: string;
  familyId: string;
  operatorId: string;
  usedAt: Date | null;
  revokedAt: Date | null;
  expired: boolean;
  email: string;
  role: Role;
  operatorStatus: string;
}

/** Operators' sessions: refresh tokens (only their hashes), each in the family of one sign-in. */
@Injectable()
export class SessionRepository {
  async insert(
    manager: EntityManager,
    t: { id: string; operatorId: string; familyId: string; tokenHash: Buffer; ttlSeconds: number },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO refresh_tokens (id, operator_id, family_id, token_hash, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [t.id, t.operatorId, t.familyId, t.tokenHash, t.ttlSeconds],
    );
  }

  /** The token with this hash and its operator, locked until the transaction ends. */
  async lockByHash(manager: EntityManager, tokenHash: Buffer): Promise<RefreshTokenRow | null> {
    const [row] = await manager.query(
      `SELECT r.id, r.family_id AS "familyId", r.operator_id AS "operatorId", r.used_at AS "usedAt",
              r.revoked_at AS "revokedAt", r.expires_at < now() AS expired,
              o.email, o.role, o.status AS "operatorStatus"
         FROM refresh_tokens r JOIN operators o ON o.id = r.operator_id
        WHERE r.token_hash = $1 FOR UPDATE OF r`,
      [tokenHash],
    );
    return row ?? null;
  }

  async findByHash(
    manager: EntityManager,
    tokenHash: Buffer,
  ): Promise<{ familyId: string; operatorId: string } | null> {
    const [row] = await manager.query(
      `SELECT family_id AS "familyId", operator_id AS "operatorId" FROM refresh_tokens WHERE token_hash = $1`,
      [tokenHash],
    );
    return row ?? null;
  }

  async markUsed(manager: EntityManager, id: string): Promise<void> {
    await manager.query(`UPDATE refresh_tokens SET used_at = now() WHERE id = $1`, [id]);
  }

  async revokeFamily(manager: EntityManager, familyId: string): Promise<void> {
    await manager.query(
      `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`,
      [familyId],
    );
  }
}
