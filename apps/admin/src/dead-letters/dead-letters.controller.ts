import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { Headers, MessagePublisher } from '#messaging';
import { WebhookRepository } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { CurrentOperator, Needs, RolesGuard } from '../auth/roles.guard.js';
import { AdminError, notFound, validate } from '../http/admin-error.js';

const filter = {
  status: z.enum(['pending', 'replayed', 'discarded']).optional(),
  queue: z.string().max(200).optional(),
  type: z.string().max(200).optional(),
  errorCode: z.string().max(200).optional(),
  tenantId: z.string().max(100).optional(),
};
const listQuery = z
  .object({
    ...filter,
    before: z.string().max(40).optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/)
      .transform(Number)
      .pipe(z.number().min(1).max(500))
      .optional(),
  })
  .strict();
const reason = z.object({ reason: z.string().trim().min(3).max(1000) }).strict();
const bulk = z
  .object({
    filter: z.object(filter).strict(),
    reason: z.string().trim().min(3).max(1000),
    limit: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

interface DeadLetterRow {
  id: string;
  exchange: string;
  routing_key: string;
  message_id: string;
  message_type: string | null;
  correlation_id: string | null;
  payload: string;
  headers: Record<string, unknown>;
  status: string;
}

const COLUMNS = `id, dlq AS "dlq", failed_queue AS "failedQueue", message_id AS "messageId", message_type AS "type",
  exchange, routing_key AS "routingKey", correlation_id AS "correlationId", tenant_id AS "tenantId", error,
  error_code AS "errorCode", attempts, failed_at AS "failedAt", status, replays, resolved_at AS "resolvedAt",
  resolution, created_at AS "createdAt"`;

const WHERE = `($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR failed_queue = $2 OR dlq = $2)
  AND ($3::text IS NULL OR message_type = $3) AND ($4::text IS NULL OR error_code = $4)
  AND ($5::text IS NULL OR tenant_id = $5)`;

const filterParams = (f: z.infer<z.ZodObject<typeof filter>>) => [
  f.status ?? null,
  f.queue ?? null,
  f.type ?? null,
  f.errorCode ?? null,
  f.tenantId ?? null,
];

// What the failure added to a message; a replay goes out as the original did.
const FAILURE_HEADERS = [
  Headers.error,
  Headers.errorName,
  Headers.errorCode,
  Headers.errorPermanent,
  Headers.failedQueue,
  Headers.failedAt,
  Headers.lastError,
  Headers.originalExchange,
  Headers.originalRoutingKey,
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-delivery-count',
];

/**
 * Dead letters: list and filter, inspect, replay (republished to the original exchange and routing
 * key with the same message id: the consumers' inbox makes a replay safe), or discard with a
 * reason. Every action is audited.
 */
@Controller('admin/api/dead-letters')
@UseGuards(RolesGuard)
export class DeadLettersController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MessagePublisher) private readonly publisher: MessagePublisher,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(WebhookRepository) private readonly webhooks: WebhookRepository,
  ) {}

  @Get()
  @Needs('viewer')
  async list(@Query() query: unknown) {
    const q = validate(listQuery, query);
    const limit = q.limit ?? 50;
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM dead_letters WHERE ${WHERE} AND ($6::text IS NULL OR id < $6) ORDER BY id DESC LIMIT $7`,
      [...filterParams(q), q.before ?? null, limit + 1],
    );
    const data = rows.slice(0, limit);
    return { data, nextBefore: rows.length > limit ? data[data.length - 1].id : null };
  }

  @Get(':id')
  @Needs('viewer')
  async get(@Param('id') id: string) {
    const [row] = await this.dataSource.query(
      `SELECT ${COLUMNS}, payload, headers FROM dead_letters WHERE id = $1`,
      [id],
    );
    if (!row) throw notFound(`Dead letter ${id}`);
    return row;
  }

  @Post(':id/replay')
  @Needs('operator')
  @HttpCode(202)
  async replay(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    const why = validate(reason, body ?? {}).reason;
    const [row]: DeadLetterRow[] = await this.dataSource.query(`SELECT * FROM dead_letters WHERE id = $1`, [
      id,
    ]);
    if (!row) throw notFound(`Dead letter ${id}`);
    if (row.status === 'discarded')
      throw new AdminError(409, 'dead_letter_discarded', 'A discarded dead letter cannot be replayed.');
    await this.republish(operator, row, why);
    return { id, status: 'replayed' };
  }

  /** Replays every pending dead letter matching the filter (at most `limit`, default 100). */
  @Post('replay')
  @Needs('operator')
  @HttpCode(202)
  async replayMany(@CurrentOperator() operator: Operator, @Body() body: unknown) {
    const input = validate(bulk, body ?? {});
    const rows: DeadLetterRow[] = await this.dataSource.query(
      `SELECT * FROM dead_letters WHERE ${WHERE} AND status = 'pending' ORDER BY id LIMIT $6`,
      [...filterParams(input.filter), input.limit ?? 100],
    );
    for (const row of rows) await this.republish(operator, row, input.reason);
    return { replayed: rows.length };
  }

  @Post(':id/discard')
  @Needs('operator')
  @HttpCode(200)
  async discard(@CurrentOperator() operator: Operator, @Param('id') id: string, @Body() body: unknown) {
    const why = validate(reason, body ?? {}).reason;
    return this.dataSource.transaction(async (m) => {
      const [rows]: [{ id: string }[], number] = await m.query(
        `UPDATE dead_letters SET status = 'discarded', resolved_at = now(), resolution = $2
          WHERE id = $1 AND status <> 'discarded' RETURNING id`,
        [id, why],
      );
      if (rows.length === 0) throw notFound(`Pending dead letter ${id}`);
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'dead_letter.discard',
        targetType: 'dead_letter',
        targetId: id,
        reason: why,
      });
      return { id, status: 'discarded' };
    });
  }

  private async republish(operator: Operator, row: DeadLetterRow, why: string): Promise<void> {
    const deliveryId = row.headers[Headers.webhookDeliveryId];
    if (typeof deliveryId === 'string') return this.resendDelivery(operator, row, deliveryId, why);
    const headers = { ...row.headers };
    for (const h of FAILURE_HEADERS) delete headers[h];
    headers[Headers.attempt] = 1;
    headers['x-replayed-from'] = row.id;
    // Published before it is marked: a crash in between leaves it pending, to be replayed again
    // (safe: the consumers deduplicate by message id).
    await this.publisher.publishRaw(row.exchange, row.routing_key, Buffer.from(row.payload, 'utf8'), {
      messageId: row.message_id,
      correlationId: row.correlation_id ?? undefined,
      type: row.message_type ?? undefined,
      timestamp: Math.floor(Date.now() / 1000),
      headers,
    });
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `UPDATE dead_letters SET status = 'replayed', replays = replays + 1, resolved_at = now(), resolution = $2
          WHERE id = $1`,
        [row.id, why],
      );
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'dead_letter.replay',
        targetType: 'dead_letter',
        targetId: row.id,
        reason: why,
        details: {
          exchange: row.exchange,
          routingKey: row.routing_key,
          messageId: row.message_id,
          type: row.message_type,
        },
      });
    });
  }

  /**
   * A dead webhook delivery is replayed by sending that delivery again (the notification app's
   * dispatcher picks it up), with the dead letter marked and audited in the same transaction.
   */
  private async resendDelivery(
    operator: Operator,
    row: DeadLetterRow,
    deliveryId: string,
    why: string,
  ): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (!(await this.webhooks.resend(m, deliveryId))) {
        throw new AdminError(409, 'delivery_missing', `Delivery ${deliveryId} of this dead letter is gone.`);
      }
      await m.query(
        `UPDATE dead_letters SET status = 'replayed', replays = replays + 1, resolved_at = now(), resolution = $2
          WHERE id = $1`,
        [row.id, why],
      );
      await this.audit.record(m, {
        operatorId: operator.id,
        action: 'dead_letter.replay',
        targetType: 'dead_letter',
        targetId: row.id,
        reason: why,
        details: { webhookDeliveryId: deliveryId, messageId: row.message_id, type: row.message_type },
      });
    });
  }
}
