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
}
