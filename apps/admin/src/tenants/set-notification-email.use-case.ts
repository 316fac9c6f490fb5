import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { notFound } from '../http/errors.js';
import { TenantRepository } from './tenant.repository.js';

/** Where a tenant's low-balance alerts are mailed (null: nowhere); audited. */
@Injectable()
export class SetNotificationEmail {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TenantRepository) private readonly tenants: TenantRepository,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async execute(operator: Operator, id: string, notificationEmail: string | null) {
    return this.dataSource.transaction(async (m) => {
      if (!(await this.tenants.setNotificationEmail(m, id, notificationEmail)))
        throw notFound(`Tenant ${id}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'tenant.set_notification_email',
        targetType: 'tenant',
        targetId: id,
        details: { notificationEmail },
      });
      return { id, notificationEmail };
    });
  }
}
