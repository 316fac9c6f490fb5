import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Answer } from '../docs/operations.js';
import { ApiProblems, QUERY_PROBLEMS } from '../docs/problems.js';
import { DataSource } from 'typeorm';
import { AccountNotFoundError, hasIdPrefix } from '#domain';
import { AccountRepository, UsageRepository } from '#persistence';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { ValidationError } from '#http';
import { UsageQuery, UsageReportView } from './usage.dto.js';
import { presentUsage } from './usage.presenter.js';

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 366;
@ApiTags('Usage')
@Controller('v1/usage')
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
  @ApiOperation({
    operationId: 'getUsage',
    summary: 'Usage totals by day or by meter',
    description:
      'Metered events whose `timestamp` falls in [from, to), by UTC day or by meter: events, quantity, the amount charged, and unbilled events. ' +
      "`amount` matches the ledger's usage charges (`charge` transactions) to the unit. " +
      `\`from\` must be before \`to\`, at most ${MAX_RANGE_DAYS} days before it.`,
  })
  @Answer(200, UsageReportView, 'The totals', {
    example: {
      accountId: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C',
      from: '2026-10-22T12:00:00.000Z',
      to: '2026-11-21T12:00:00.000Z',
      groupBy: 'day',
      data: [
        { day: '2026-11-21', currency: 'USD', events: 2, quantity: 1500, amount: 3000, unbilledEvents: 0 },
      ],
    },
  })
  @ApiProblems(...QUERY_PROBLEMS, 'account_not_found')
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
