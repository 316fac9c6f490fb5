import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Ledger } from '#ledger';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { notFound } from '../http/errors.js';

/** Freezes a customer account (no money moves in or out) or unfreezes it; audited with the reason. */
@Injectable()
export class SetAccountStatus {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async execute(operator: Operator, id: string, status: 'active' | 'frozen', why: string) {
    return this.dataSource.transaction(async (m) => {
      if (!(await this.ledger.setStatus(m, id, status))) throw notFound(`Account ${id}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: status === 'frozen' ? 'account.freeze' : 'account.unfreeze',
        targetType: 'account',
        targetId: id,
        reason: why,
      });
      return { id, status };
    });
  }
}
