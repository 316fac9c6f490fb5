import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface AuditEntry {
  operatorId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditFilter {
  action?: string;
  targetType?: string;
  targetId?: string;
  operatorId?: string;
  /** Entries older than this id. */
  before?: string;
  limit: number;
}

export interface AuditRow {
  id: string;
  operatorId: string | null;
  operatorEmail: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  createdAt: Date;
}

/** The append-only audit log: who did what to what, when and why. Written in the change's own transaction. */
@Injectable()
export class AuditLog {
  async record(manager: EntityManager, e: AuditEntry): Promise<void> {
    await manager.query(
      `INSERT INTO audit_log (operator_id, action, target_type, target_id, reason, details)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [e.operatorId, e.action, e.targetType, e.targetId, e.reason ?? null, JSON.stringify(e.details ?? {})],
    );
  }

  /** Newest first. */
  async list(manager: EntityManager, f: AuditFilter): Promise<AuditRow[]> {
    return manager.query(
      `SELECT a.id::text, a.operator_id AS "operatorId", o.email AS "operatorEmail", a.action, a.target_type AS "targetType",
              a.target_id AS "targetId", a.reason, a.details, a.created_at AS "createdAt"
         FROM audit_log a LEFT JOIN operators o ON o.id = a.operator_id
        WHERE ($1::text IS NULL OR a.action = $1) AND ($2::text IS NULL OR a.target_type = $2)
          AND ($3::text IS NULL OR a.target_id = $3) AND ($4::text IS NULL OR a.operator_id = $4)
          AND ($5::bigint IS NULL OR a.id < $5)
        ORDER BY a.id DESC LIMIT $6`,
      [
        f.action ?? null,
        f.targetType ?? null,
        f.targetId ?? null,
        f.operatorId ?? null,
        f.before ?? null,
        f.limit,
      ],
    );
  }
}
