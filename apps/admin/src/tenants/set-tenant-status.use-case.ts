import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { notFound } from '../http/errors.js';
import { TenantRepository } from './tenant.repository.js';

/** Disables a tenant (its keys stop working at the gateway) or enables it again; audited with the reason. */
@Injectable()
export class SetTenantStatus {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TenantRepository) private readonly tenants: TenantRepository,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async execute(operator: Operator, id: string, status: 'active' | 'disabled', reason: string) {
    return this.dataSource.transaction(async (m) => {
      if (!(await this.tenants.setStatus(m, id, status))) throw notFound(`Tenant ${id}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: status === 'disabled' ? 'tenant.disable' : 'tenant.enable',
        targetType: 'tenant',
        targetId: id,
        reason,
      });
      return { id, status };
    });
  }
}
