import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccountNotFoundError, hasIdPrefix } from '#domain';
import { AccountRepository, UsageRepository } from '#persistence';
import { ApiKeyGuard, type Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { ValidationError } from '#http';
import { UsageQuery } from './usage.dto.js';
import { presentUsage } from './usage.presenter.js';

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 366;
@Controller('v1/usage')
@UseGuards(ApiKeyGuard)
export class UsageController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(UsageRepository) private readonly usage: UsageRepository,
  ) {}

  /**
   * Metered usage over [from, to) (default: the last 30 days), by UTC day or by meter: events,
   * quantity, the amount charged (the same as the ledger's usage charges), and unbilled events.
   */
  @Get()
  async aggregate(@CurrentTenant() tenant: Tenant, @Query() q: UsageQuery) {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS);
    if (from >= to) throw new ValidationError([{ field: 'from', message: 'must be before to' }]);
    if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
      throw new ValidationError([
        { field: 'from', message: `the range may span at most ${MAX_RANGE_DAYS} days` },
      ]);
    }
    if (q.accountId) {
      const account = hasIdPrefix(q.accountId, 'acc')
        ? await this.accounts.find(this.dataSource.manager, tenant.tenantId, q.accountId)
        : null;
      if (!account) throw new AccountNotFoundError(q.accountId);
    }
    const groupBy = q.groupBy ?? 'day';
    const rows = await this.usage.aggregate(this.dataSource.manager, tenant.tenantId, {
      accountId: q.accountId,
      from,
      to,
      groupBy,
    });
    return {
      accountId: q.accountId ?? null,
      from: from.toISOString(),
      to: to.toISOString(),
      groupBy,
      data: rows.map((r) => presentUsage(groupBy, r)),
    };
  }
}
