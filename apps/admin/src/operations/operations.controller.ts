import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { MAX_EVENTS_PER_BATCH, MessageTypes, type UsageRecorded } from '#domain';
import { Exchanges } from '#messaging';
import { OutboxSignal, OutboxStore, UsageRepository, WebhookRepository } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { AdminError, notFound, validate } from '../http/admin-error.js';

const limit = z
  .string()
  .regex(/^\d{1,3}$/)
  .transform(Number)
  .pipe(z.number().min(1).max(500))
  .optional();
const usageQuery = z
  .object({
    tenantId: z.string().max(64).optional(),
    accountId: z.string().max(64).optional(),
    apiKeyId: z.string().max(64).optional(),
    type: z.string().max(100).optional(),
    status: z.enum(['received', 'processed', 'failed']).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit,
  })
  .strict();
const deliveriesQuery = z
  .object({
    tenantId: z.string().max(64).optional(),
    endpointId: z.string().max(64).optional(),
    status: z.enum(['pending', 'succeeded', 'failed']).optional(),
    limit,
  })
  .strict();
const reason = z.object({ reason: z.string().trim().min(3).max(1000) }).strict();
const rebillBody = z
  .object({
    tenantId: z.string().min(1).max(64),
    accountId: z.string().min(1).max(64).optional(),
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    reason: z.string().trim().min(3).max(1000),
  })
  .strict()
  .refine((b) => Date.parse(b.from) < Date.parse(b.to), {
    message: '"from" must be before "to"',
    path: ['to'],
  });
/** Most events one re-bill takes; a larger range is re-billed in parts (the answer says so). */
const MAX_REBILL_EVENTS = 10_000;

/** Usage logs and webhook deliveries for operators; re-running a failed usage event; redelivering a webhook. */
@Controller('admin/api')
@UseGuards(RolesGuard)
export class OperationsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OutboxStore) private readonly outbox: OutboxStore,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(WebhookRepository) private readonly webhooks: WebhookRepository,
    @Inject(UsageRepository) private readonly usageEvents: UsageRepository,
  ) {}

  @Get('usage-events')
  @Needs('viewer')
  async usage(@Query() input: unknown) {
    const q = validate(usageQuery, input);
    const rows = await this.dataSource.query(
      `SELECT e.tenant_id AS "tenantId", e.id, e.type, e.account_id AS "accountId", e.api_key_id AS "apiKeyId",
              e.occurred_at AS "occurredAt", e.received_at AS "receivedAt", e.status, e.properties,
              p.category, p.billing_status AS "billingStatus", p.amount::text, p.unbilled_code AS "unbilledCode",
              p.transaction_id AS "transactionId", f.code AS "failureCode", f.reason AS "failureReason"
         FROM usage_events e
         LEFT JOIN usage_processed p ON p.tenant_id = e.tenant_id AND p.event_id = e.id
         LEFT JOIN usage_failed f ON f.tenant_id = e.tenant_id AND f.event_id = e.id
        WHERE ($1::text IS NULL OR e.tenant_id = $1) AND ($2::text IS NULL OR e.account_id = $2)
          AND ($3::text IS NULL OR e.api_key_id = $3) AND ($4::text IS NULL OR e.type = $4)
          AND ($5::text IS NULL OR e.status = $5)
          AND ($6::timestamptz IS NULL OR e.received_at >= $6) AND ($7::timestamptz IS NULL OR e.received_at < $7)
        ORDER BY e.received_at DESC LIMIT $8`,
      [
        q.tenantId ?? null,
        q.accountId ?? null,
        q.apiKeyId ?? null,
        q.type ?? null,
        q.status ?? null,
        q.from ?? null,
        q.to ?? null,
        q.limit ?? 100,
      ],
    );
    return { data: rows };
  }

  /** Processes a failed usage event again (its cause fixed: a meter, an account, the rules). */
  @Post('usage-events/:tenantId/:id/rerun')
  @Needs('operator')
  @HttpCode(202)
  async rerunUsage(
    @CurrentOperator() operator: Operator,
    @Param('tenantId') tenantId: string,
    @Param('id') id: string,
    @Body() body: unknown,
  ) {
    const why = validate(reason, body ?? {}).reason;
    await this.dataSource.transaction(async (m) => {
      const [rows]: [{ status: string }[], number] = await m.query(
        `UPDATE usage_events SET status = 'received' WHERE tenant_id = $1 AND id = $2 AND status = 'failed' RETURNING status`,
        [tenantId, id],
      );
      if (rows.length === 0) {
        const [exists] = await m.query(`SELECT status FROM usage_events WHERE tenant_id = $1 AND id = $2`, [
          tenantId,
          id,
        ]);
        if (!exists) throw notFound(`Usage event ${id}`);
        throw new AdminError(
          409,
          'usage_event_not_failed',
          `Only a failed event can be re-run; this one is ${exists.status}.`,
        );
      }
      const command: UsageRecorded = { tenantId, eventIds: [id] };
      await this.outbox.enqueue(m, [
        { exchange: Exchanges.commands, routingKey: MessageTypes.usageRecorded, payload: command },
      ]);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'usage_event.rerun',
        targetType: 'usage_event',
        targetId: `${tenantId}/${id}`,
        reason: why,
      });
    });
    this.outboxSignal.committed();
    return { tenantId, id, status: 'received' };
  }

  /**
   * Charges again the usage a tenant's wallets could not pay for (processed but unbilled), over
   * [from, to) by occurrence, optionally for one account: the worker charges each event at the
   * price it was given, exactly once however often this is asked (an event charged meanwhile is
   * skipped); one that still cannot pay stays unbilled with the new reason.
   */
  @Post('usage/rebill')
  @Needs('operator')
  @HttpCode(202)
  async rebillUsage(@CurrentOperator() operator: Operator, @Body() body: unknown) {
    const input = validate(rebillBody, body ?? {});
    const events = await this.dataSource.transaction(async (m) => {
      const [tenant] = await m.query(`SELECT id FROM tenants WHERE id = $1`, [input.tenantId]);
      if (!tenant) throw notFound(`Tenant ${input.tenantId}`);
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
        commands.map((payload) => ({
          exchange: Exchanges.commands,
          routingKey: MessageTypes.usageRebillRequested,
          payload,
        })),
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

  @Get('webhook-endpoints')
  @Needs('viewer')
  async endpoints(@Query() input: unknown) {
    const q = validate(z.object({ tenantId: z.string().max(64).optional() }).strict(), input);
    const rows = await this.dataSource.query(
      `SELECT e.id, e.tenant_id AS "tenantId", e.url, e.event_types AS "eventTypes", e.status,
              e.disabled_reason AS "disabledReason", e.failing_since AS "failingSince", e.created_at AS "createdAt",
              (SELECT count(*)::int FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'failed') AS failed,
              (SELECT count(*)::int FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS pending
         FROM webhook_endpoints e WHERE e.deleted_at IS NULL AND ($1::text IS NULL OR e.tenant_id = $1)
        ORDER BY e.id DESC LIMIT 200`,
      [q.tenantId ?? null],
    );
    return { data: rows };
  }

  @Get('webhook-deliveries')
  @Needs('viewer')
  async deliveries(@Query() input: unknown) {
    const q = validate(deliveriesQuery, input);
    const rows = await this.dataSource.query(
      `SELECT d.id, d.tenant_id AS "tenantId", d.endpoint_id AS "endpointId", e.url, d.event_id AS "eventId",
              d.event_type AS "eventType", d.status, d.attempts, d.last_status AS "lastStatus", d.last_error AS "lastError",
              d.next_attempt_at AS "nextAttemptAt", d.created_at AS "createdAt", d.completed_at AS "completedAt"
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE ($1::text IS NULL OR d.tenant_id = $1) AND ($2::text IS NULL OR d.endpoint_id = $2)
          AND ($3::text IS NULL OR d.status = $3)
        ORDER BY d.id DESC LIMIT $4`,
      [q.tenantId ?? null, q.endpointId ?? null, q.status ?? null, q.limit ?? 100],
    );
    return { data: rows };
  }

  /** Sends a delivery again from the start of its schedule. */
  @Post('webhook-deliveries/:id/redeliver')
  @Needs('operator')
  @HttpCode(202)
  async redeliver(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    const why = validate(reason, body ?? {}).reason;
    return this.dataSource.transaction(async (m) => {
      if (!(await this.webhooks.resend(m, id))) throw notFound(`Delivery ${id}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'webhook_delivery.redeliver',
        targetType: 'webhook_delivery',
        targetId: id,
        reason: why,
      });
      return { id, status: 'pending' };
    });
  }
}
