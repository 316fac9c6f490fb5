import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Commands } from '#messaging';
import { OutboxSignal, OutboxStore } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { conflict, notFound } from '../http/errors.js';
import { UsageLogRepository } from './usage-log.repository.js';

/** Processes a failed usage event again (its cause fixed: a meter, an account, the rules); audited. */
@Injectable()
export class RerunUsageEvent {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(UsageLogRepository) private readonly usage: UsageLogRepository,
    @Inject(OutboxStore) private readonly outbox: OutboxStore,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async execute(operator: Operator, tenantId: string, id: string, why: string) {
    await this.dataSource.transaction(async (m) => {
      const reopened = await this.usage.reopenFailed(m, tenantId, id);
      if (!reopened.reopened) {
        if (reopened.status === null) throw notFound(`Usage event ${id}`);
        throw conflict(
          'usage_event_not_failed',
          `Only a failed event can be re-run; this one is ${reopened.status}.`,
        );
      }
      await this.outbox.enqueue(m, [Commands.usageRecorded({ tenantId, eventIds: [id] })]);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'usage_event.rerun',
        targetType: 'usage_event',
        targetId: `${tenantId}/${id}`,
        reason: why,
      });
    });
    this.outboxSignal.committed();
    return { tenantId, id, status: 'received' as const };
  }
}
