import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { CellRegistration } from './cell-registration.js';
import { insertTenant } from './insert-tenant.js';

/** A new tenant and its first API key, audited; the key's plaintext is in the answer, once. */
@Injectable()
export class CreateTenant {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(CellRegistration) private readonly cell: CellRegistration,
  ) {}

  async execute(operator: Operator, input: { name: string; notificationEmail?: string }) {
    const { tenantId, apiKey } = await this.dataSource.transaction(async (m) => {
      const created = await insertTenant(m, input.name, input.notificationEmail ?? null);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'tenant.create',
        targetType: 'tenant',
        targetId: created.tenantId,
        details: { name: input.name, apiKeyId: created.keyId },
      });
      await this.cell.register(created.tenantId, created.keyHash);
      return created;
    });
    return { id: tenantId, name: input.name, status: 'active' as const, apiKey };
  }
}
