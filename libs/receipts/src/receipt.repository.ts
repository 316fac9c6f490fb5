import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** Whose an order is: its tenant and the tenant's name, the part of a receipt the order lacks. */
@Injectable()
export class ReceiptRepository {
  /** `tenantId` null: any tenant's order (operators). Null when there is no such order. */
  async seller(
    manager: EntityManager,
    orderId: string,
    tenantId: string | null,
  ): Promise<{ tenantId: string; tenantName: string } | null> {
    const rows: { tenant_id: string; name: string }[] = await manager.query(
      `SELECT o.tenant_id, t.name FROM orders o JOIN tenants t ON t.id = o.tenant_id
        WHERE o.id = $1 AND ($2::text IS NULL OR o.tenant_id = $2)`,
      [orderId, tenantId],
    );
    return rows[0] ? { tenantId: rows[0].tenant_id, tenantName: rows[0].name } : null;
  }
}
