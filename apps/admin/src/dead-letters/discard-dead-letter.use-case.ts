import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { notFound } from '../http/errors.js';
import { DeadLetterRepository } from './dead-letter.repository.js';

/** Discards a dead letter for good, with the reason; audited. */
@Injectable()
export class DiscardDeadLetter {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(DeadLetterRepository) private readonly deadLetters: DeadLetterRepository,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async execute(operator: Operator, id: string, why: string) {
    return this.dataSource.transaction(async (m) => {
      if (!(await this.deadLetters.discard(m, id, why))) throw notFound(`Pending dead letter ${id}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'dead_letter.discard',
        targetType: 'dead_letter',
        targetId: id,
        reason: why,
      });
      return { id, status: 'discarded' as const };
    });
  }
}
