import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { generateApiKey, newId } from '#domain';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { notFound, validate } from '../http/admin-error.js';
import { insertTenant } from './insert-tenant.js';

const createTenant = z
  .object({ name: z.string().trim().min(1).max(200), notificationEmail: z.email().optional() })
  .strict();
const reason = z.object({ reason: z.string().trim().min(3).max(1000) }).strict();
const setEmail = z.object({ notificationEmail: z.email().nullable() }).strict();
const createKey = z.object({ name: z.string().trim().min(1).max(100).optional() }).strict();
const listQuery = z.object({ status: z.enum(['active', 'disabled']).optional() }).strict();

/** Tenants and their API keys. Every change is audited in its own transaction. */
@Controller('admin/api/tenants')
@UseGuards(RolesGuard)
export class TenantsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  @Get()
  @Needs('viewer')
  async list(@Query() query: unknown) {
    const q = validate(listQuery, query);
    const rows = await this.dataSource.query(
      `SELECT t.id, t.name, t.status, t.notification_email AS "notificationEmail", t.created_at AS "createdAt",
              (SELECT count(*)::int FROM api_keys k WHERE k.tenant_id = t.id AND k.revoked_at IS NULL) AS "activeKeys"
         FROM tenants t WHERE ($1::text IS NULL OR t.status = $1) ORDER BY t.created_at DESC LIMIT 500`,
      [q.status ?? null],
    );
    return { data: rows };
  }

  @Post()
  @Needs('operator')
  @HttpCode(201)
  async create(@CurrentOperator() operator: Operator, @Body() body: unknown) {
    const input = validate(createTenant, body ?? {});
    const { tenantId, apiKey } = await this.dataSource.transaction(async (m) => {
      const created = await insertTenant(m, input.name, input.notificationEmail ?? null);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'tenant.create',
        targetType: 'tenant',
        targetId: created.tenantId,
        details: { name: input.name, apiKeyId: created.keyId },
      });
      return created;
    });
    // The plaintext key is shown here, once.
    return { id: tenantId, name: input.name, status: 'active', apiKey };
  }

  @Post(':id/disable')
  @Needs('operator')
  @HttpCode(200)
  async disable(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    return this.setStatus(operator, id, 'disabled', validate(reason, body ?? {}).reason);
  }

  @Post(':id/enable')
  @Needs('operator')
  @HttpCode(200)
  async enable(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    return this.setStatus(operator, id, 'active', validate(reason, body ?? {}).reason);
  }

  @Put(':id/notification-email')
  @Needs('operator')
  async setNotificationEmail(
    @CurrentOperator() operator: Operator,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const input = validate(setEmail, body ?? {});
    return this.dataSource.transaction(async (m) => {
      const [rows]: [{ id: string }[], number] = await m.query(
        `UPDATE tenants SET notification_email = $2 WHERE id = $1 RETURNING id`,
        [id, input.notificationEmail],
      );
      if (rows.length === 0) throw notFound(`Tenant ${id}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'tenant.set_notification_email',
        targetType: 'tenant',
        targetId: id,
        details: { notificationEmail: input.notificationEmail },
      });
      return { id, notificationEmail: input.notificationEmail };
    });
  }

  @Get(':id/keys')
  @Needs('viewer')
  async keys(@Param('id') id: string) {
    await this.load(id);
    const rows = await this.dataSource.query(
      `SELECT id, prefix, name, created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"
         FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC`,
      [id],
    );
    return { data: rows };
  }

  @Post(':id/keys')
  @Needs('operator')
  @HttpCode(201)
  async createKey(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    const input = validate(createKey, body ?? {});
    await this.load(id);
    const key = generateApiKey();
    const keyId = newId('key');
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO api_keys (id, tenant_id, prefix, key_hash, name) VALUES ($1, $2, $3, $4, $5)`,
        [keyId, id, key.displayPrefix, key.hash, input.name ?? null],
      );
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'api_key.create',
        targetType: 'api_key',
        targetId: keyId,
        details: { tenantId: id, prefix: key.displayPrefix },
      });
    });
    return { id: keyId, prefix: key.displayPrefix, name: input.name ?? null, apiKey: key.plaintext };
  }

  @Post(':id/keys/:keyId/revoke')
  @Needs('operator')
  @HttpCode(200)
  async revokeKey(
    @CurrentOperator() operator: Operator,
    @Param('id') id: string,
    @Param('keyId') keyId: string,
    @Body() body: unknown,
  ) {
    const why = validate(reason, body ?? {}).reason;
    return this.dataSource.transaction(async (m) => {
      const [rows]: [{ id: string }[], number] = await m.query(
        `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND tenant_id = $2 RETURNING id`,
        [keyId, id],
      );
      if (rows.length === 0) throw notFound(`API key ${keyId}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'api_key.revoke',
        targetType: 'api_key',
        targetId: keyId,
        reason: why,
        details: { tenantId: id },
      });
      return { id: keyId, revoked: true };
    });
  }

  private async setStatus(operator: Operator, id: string, status: 'active' | 'disabled', why: string) {
    return this.dataSource.transaction(async (m) => {
      const [rows]: [{ id: string }[], number] = await m.query(
        `UPDATE tenants SET status = $2 WHERE id = $1 RETURNING id`,
        [id, status],
      );
      if (rows.length === 0) throw notFound(`Tenant ${id}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: status === 'disabled' ? 'tenant.disable' : 'tenant.enable',
        targetType: 'tenant',
        targetId: id,
        reason: why,
      });
      return { id, status };
    });
  }

  private async load(id: string) {
    const [row] = await this.dataSource.query(`SELECT id FROM tenants WHERE id = $1`, [id]);
    if (!row) throw notFound(`Tenant ${id}`);
  }
}
