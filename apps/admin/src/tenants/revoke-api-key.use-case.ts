import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { notFound } from '../http/errors.js';
import { TenantRepository } from './tenant.repository.js';

/** Revokes a tenant's API key (the gateway refuses it from its next cache refresh); audited with the reason. */
@Injectable()
export class RevokeApiKey {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TenantRepository) private readonly tenants: TenantRepository,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async execute(operator: Operator, tenantId: string, keyId: string, reason: string) {
    return this.dataSource.transaction(async (m) => {
      if (!(await this.tenants.revokeKey(m, tenantId, keyId))) throw notFound(`API key ${keyId}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'api_key.revoke',
        targetType: 'api_key',
        targetId: keyId,
        reason,
        details: { tenantId },
      });
      return { id: keyId, revoked: true as const };
    });
  }
}
