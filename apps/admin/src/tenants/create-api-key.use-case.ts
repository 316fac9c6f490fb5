import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { generateApiKey, newId } from '#domain';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { notFound } from '../http/errors.js';
import { CellRegistration } from './cell-registration.js';
import { TenantRepository } from './tenant.repository.js';

/** Another API key for a tenant, audited; its plaintext is in the answer, once (only its hash is stored). */
@Injectable()
export class CreateApiKey {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TenantRepository) private readonly tenants: TenantRepository,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(CellRegistration) private readonly cell: CellRegistration,
  ) {}

  async execute(operator: Operator, tenantId: string, name: string | null) {
    const key = generateApiKey();
    const id = newId('key');
    await this.dataSource.transaction(async (m) => {
      if (!(await this.tenants.exists(m, tenantId))) throw notFound(`Tenant ${tenantId}`);
      await this.tenants.insertKey(m, { id, tenantId, prefix: key.displayPrefix, hash: key.hash, name });
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'api_key.create',
        targetType: 'api_key',
        targetId: id,
        details: { tenantId, prefix: key.displayPrefix },
      });
      await this.cell.register(tenantId, key.hash);
    });
    return { id, prefix: key.displayPrefix, name, apiKey: key.plaintext };
  }
}
