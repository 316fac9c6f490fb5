import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Operator, Role } from './auth.service.js';

export interface OperatorRow {
  id: string;
  email: string;
  role: Role;
  status: string;
  createdAt: Date;
}

/** The operators table: who may sign in to the admin API, with which role. */
@Injectable()
export class OperatorRepository {
  /** Counts operators with the table locked against inserts until the transaction ends. */
  async countLocked(manager: EntityManager): Promise<number> {
    await manager.query(`LOCK TABLE operators IN SHARE ROW EXCLUSIVE MODE`);
    const [{ n }]: { n: number }[] = await manager.query(`SELECT count(*)::int AS n FROM operators`);
    return n;
  }

  /** Inserts an operator; false when the email (case aside) is taken. */
  async insert(
    manager: EntityManager,
    o: { id: string; email: string; passwordHash: string; role: Role },
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO operators (id, email, password_hash, role) VALUES ($1, $2, $3, $4)
       ON CONFLICT (lower(email)) DO NOTHING RETURNING id`,
      [o.id, o.email, o.passwordHash, o.role],
    );
    return rows.length === 1;
  }

  /** The active operator with this email (case aside) and their password hash. */
  async findActiveByEmail(
    manager: EntityManager,
    email: string,
  ): Promise<(Operator & { passwordHash: string }) | null> {
    const [row] = await manager.query(
      `SELECT id, email, role, password_hash AS "passwordHash" FROM operators
        WHERE lower(email) = lower($1) AND status = 'active'`,
      [email],
    );
    return row ?? null;
  }

  /** The active operator `id` while their session (refresh token family) is not revoked. */
  async findInSession(manager: EntityManager, id: string, familyId: string): Promise<Operator | null> {
    const [row] = await manager.query(
      `SELECT o.id, o.email, o.role FROM operators o
        WHERE o.id = $1 AND o.status = 'active'
          AND EXISTS (SELECT 1 FROM refresh_tokens r
                       WHERE r.family_id = $2 AND r.operator_id = o.id AND r.revoked_at IS NULL)`,
      [id, familyId],
    );
    return row ?? null;
  }

  async list(manager: EntityManager): Promise<OperatorRow[]> {
    return manager.query(
      `SELECT id, email, role, status, created_at AS "createdAt" FROM operators ORDER BY created_at`,
    );
  }
}
