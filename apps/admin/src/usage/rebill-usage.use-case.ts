import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MAX_EVENTS_PER_BATCH, type UsageRecorded } from '#domain';
import { Commands } from '#messaging';
import { OutboxSignal, OutboxStore, UsageRepository } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { notFound } from '../http/errors.js';
import { TenantRepository } from '../tenants/tenant.repository.js';

/** Most events one re-bill takes; a larger range is re-billed in parts (the answer says so). */
export const MAX_REBILL_EVENTS = 10_000;

export interface Rebill {
  tenantId: string;
  accountId?: string;
  from: string;
  to: string;
  reason: string;
}

/**
 * Charges again the usage a tenant's wallets could not pay for (processed but unbilled), over
 * [from, to) by occurrence, optionally for one account: the worker charges each event at the
 * price it was given, exactly once however often this is asked (an event charged meanwhile is
 * skipped); one that still cannot pay stays unbilled with the new reason.
 */
@Injectable()
export class RebillUsage {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TenantRepository) private readonly tenants: TenantRepository,
    @Inject(UsageRepository) private readonly usageEvents: UsageRepository,
    @Inject(OutboxStore) private readonly outbox: OutboxStore,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async execute(operator: Operator, input: Rebill) {
    const events = await this.dataSource.transaction(async (m) => {
      if (!(await this.tenants.exists(m, input.tenantId))) throw notFound(`Tenant ${input.tenantId}`);
      const ids = await this.usageEvents.unbilledIds(m, input.tenantId, {
        accountId: input.accountId ?? null,
        from: new Date(input.from),
        to: new Date(input.to),
        limit: MAX_REBILL_EVENTS + 1,
      });
      const taken = ids.slice(0, MAX_REBILL_EVENTS);
      const commands: UsageRecorded[] = [];
      for (let i = 0; i < taken.length; i += MAX_EVENTS_PER_BATCH) {
        commands.push({ tenantId: input.tenantId, eventIds: taken.slice(i, i + MAX_EVENTS_PER_BATCH) });
      }
      await this.outbox.enqueue(
        m,
        commands.map((payload) => Commands.usageRebillRequested(payload)),
      );
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'usage.rebill',
        targetType: 'tenant',
        targetId: input.tenantId,
        reason: input.reason,
        details: { accountId: input.accountId ?? null, from: input.from, to: input.to, events: taken.length },
      });
      return { count: taken.length, more: ids.length > MAX_REBILL_EVENTS };
    });
    if (events.count > 0) this.outboxSignal.committed();
    return {
      tenantId: input.tenantId,
      accountId: input.accountId ?? null,
      from: input.from,
      to: input.to,
      events: events.count,
      more: events.more,
    };
  }
}
