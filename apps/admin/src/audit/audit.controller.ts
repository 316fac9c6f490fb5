import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Needs, RolesGuard } from '../auth/roles.guard.js';
import { ApiProblems, QUERY_PROBLEMS } from '../docs/problems.js';
import { pageOf } from '../http/page.js';
import { AuditLog } from './audit-log.js';
import { AuditPage, AuditQuery } from './audit.dto.js';

/** The audit log, newest first, filterable; `before` pages by id. */
@ApiTags('Audit')
@Controller('admin/api/audit')
@UseGuards(RolesGuard)
export class AuditController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  @Get()
  @Needs('viewer')
  @ApiOperation({
    summary: 'The audit log',
    description: 'Who did what to what, when and why; newest first.',
  })
  @ApiOkResponse({ type: AuditPage })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@Query() q: AuditQuery): Promise<AuditPage> {
    const limit = q.limit ?? 100;
    const rows = await this.audit.list(this.dataSource.manager, { ...q, limit: limit + 1 });
    return pageOf(rows, limit);
  }
}
