import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WebhookRepository } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { notFound } from '../http/errors.js';

/** Sends a delivery again from the start of its schedule; audited. */
@Injectable()
export class RedeliverWebhook {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(WebhookRepository) private readonly webhooks: WebhookRepository,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async execute(operator: Operator, id: string, why: string) {
    return this.dataSource.transaction(async (m) => {
      if (!(await this.webhooks.resend(m, id))) throw notFound(`Delivery ${id}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'webhook_delivery.redeliver',
        targetType: 'webhook_delivery',
        targetId: id,
        reason: why,
      });
      return { id, status: 'pending' as const };
    });
  }
}
