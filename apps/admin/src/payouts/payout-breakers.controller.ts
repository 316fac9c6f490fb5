import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { PayoutBreakerRepository } from '#persistence';
import { Needs, RolesGuard } from '../auth/roles.guard.js';
import { PayoutBreakerList } from './payouts.dto.js';

/** The payout providers' circuit breakers, as the transaction workers report them. */
@ApiTags('Payouts')
@Controller('admin/api/payout-breakers')
@UseGuards(RolesGuard)
export class PayoutBreakersController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PayoutBreakerRepository) private readonly breakers: PayoutBreakerRepository,
  ) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({
    summary: "Payout providers' circuit breakers",
    description:
      "Each provider's breaker as a worker last reported it (on every transition and failure): an open one whose cool-down has passed reads as half-open.",
  })
  @ApiOkResponse({ type: PayoutBreakerList })
  async list(): Promise<PayoutBreakerList> {
    const rows = await this.breakers.all(this.dataSource);
    return {
      data: rows.map((r) => ({
        ...r,
        since: r.since.toISOString(),
        retryAt: r.retryAt?.toISOString() ?? null,
        lastFailureAt: r.lastFailureAt?.toISOString() ?? null,
        updatedAt: r.updatedAt!.toISOString(),
      })),
    };
  }
}
