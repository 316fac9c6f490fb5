import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { Needs, RolesGuard } from '../auth/roles.guard.js';
import { validate } from '../http/admin-error.js';

const auditQuery = z
  .object({
    action: z.string().max(100).optional(),
    targetType: z.string().max(100).optional(),
    targetId: z.string().max(200).optional(),
    operatorId: z.string().max(100).optional(),
    before: z
      .string()
      .regex(/^\d{1,19}$/)
      .optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/)
      .transform(Number)
      .pipe(z.number().min(1).max(500))
      .optional(),
  })
  .strict();

/** The audit log, newest first, filterable; `before` pages by id. */
@Controller('admin/api/audit')
@UseGuards(RolesGuard)
export class AuditController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get()
  @Needs('viewer')
  async list(@Query() query: unknown) {
    const q = validate(auditQuery, query);
    const limit = q.limit ?? 100;
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT a.id::text, a.operator_id AS "operatorId", o.email AS "operatorEmail", a.action, a.target_type AS "targetType",
              a.target_id AS "targetId", a.reason, a.details, a.created_at AS "createdAt"
         FROM audit_log a LEFT JOIN operators o ON o.id = a.operator_id
        WHERE ($1::text IS NULL OR a.action = $1) AND ($2::text IS NULL OR a.target_type = $2)
          AND ($3::text IS NULL OR a.target_id = $3) AND ($4::text IS NULL OR a.operator_id = $4)
          AND ($5::bigint IS NULL OR a.id < $5)
        ORDER BY a.id DESC LIMIT $6`,
      [
        q.action ?? null,
        q.targetType ?? null,
        q.targetId ?? null,
        q.operatorId ?? null,
        q.before ?? null,
        limit + 1,
      ],
    );
    const more = rows.length > limit;
    const data = rows.slice(0, limit);
    return { data, nextBefore: more ? data[data.length - 1].id : null };
  }
}
