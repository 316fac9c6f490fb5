import { Controller, Get, Inject, Query, UseGuards, type OnModuleDestroy } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { idFloor } from '#domain';
import { AmqpConnection, Topology } from '#messaging';
import { Needs, RolesGuard } from '../auth/roles.guard.js';
import { validate } from '../http/admin-error.js';

const WINDOWS = { '5m': 300, '15m': 900, '1h': 3600, '6h': 21_600, '24h': 86_400 } as const;
const query = z
  .object({
    window: z.enum(Object.keys(WINDOWS) as [keyof typeof WINDOWS]).optional(),
    tenantId: z.string().max(64).optional(),
  })
  .strict();

const ms = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 1000) / 1000);

/**
 * The dashboard's numbers, cheap enough to refresh every few seconds: windows are id or time
 * ranges on indexes, and queue depths come from the broker (passive declares).
 */
@Controller('admin/api/metrics')
@UseGuards(RolesGuard)
export class MetricsController implements OnModuleDestroy {
  /** One channel for the passive declares, opened on first use (the manager re-opens it after a 404). */
  private channel: ChannelWrapper | undefined;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AmqpConnection) private readonly amqp: AmqpConnection,
    @Inject(Topology) private readonly topology: Topology,
  ) {}

  @Get()
  @Needs('viewer')
  async overview(@Query() input: unknown) {
    const q = validate(query, input);
    const window = q.window ?? '1h';
    const seconds = WINDOWS[window];
    const since = new Date(Date.now() - seconds * 1000);
    const tenant = q.tenantId ?? null;
    const [transactions, usage, outbox, webhooks, deadLetters, queues] = await Promise.all([
      this.dataSource.query(
        `SELECT type, count(*)::int AS total,
                count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
                count(*) FILTER (WHERE status = 'failed')::int AS failed,
                count(*) FILTER (WHERE status IN ('pending', 'processing'))::int AS open,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - created_at) * 1000)
                  FILTER (WHERE completed_at IS NOT NULL) AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - created_at) * 1000)
                  FILTER (WHERE completed_at IS NOT NULL) AS p95,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM completed_at - created_at) * 1000)
                  FILTER (WHERE completed_at IS NOT NULL) AS p99
           FROM transactions WHERE id >= $1 AND ($2::text IS NULL OR tenant_id = $2)
          GROUP BY type ORDER BY type`,
        [idFloor('txn', since.getTime()), tenant],
      ),
      this.dataSource.query(
        `SELECT p.type, count(*)::int AS processed,
                count(*) FILTER (WHERE p.billing_status = 'charged')::int AS charged,
                count(*) FILTER (WHERE billing_status = 'unbilled')::int AS unbilled,
                coalesce(sum(amount) FILTER (WHERE billing_status = 'charged'), 0)::text AS amount,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM p.processed_at - e.received_at) * 1000) AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM p.processed_at - e.received_at) * 1000) AS p95,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM p.processed_at - e.received_at) * 1000) AS p99
           FROM usage_processed p JOIN usage_events e ON e.tenant_id = p.tenant_id AND e.id = p.event_id
          WHERE p.processed_at >= $1 AND ($2::text IS NULL OR p.tenant_id = $2)
          GROUP BY p.type ORDER BY p.type`,
        [since, tenant],
      ),
      this.dataSource.query(
        `SELECT (SELECT count(*)::int FROM outbox WHERE published_at IS NULL) AS backlog,
                (SELECT EXTRACT(EPOCH FROM now() - min(created_at)) FROM outbox WHERE published_at IS NULL) AS oldest_seconds,
                (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM published_at - created_at) * 1000)
                   FROM outbox WHERE published_at >= $1) AS lag_p50,
                (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM published_at - created_at) * 1000)
                   FROM outbox WHERE published_at >= $1) AS lag_p99`,
        [since],
      ),
      this.dataSource.query(
        `SELECT count(*)::int AS deliveries,
                count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
                count(*) FILTER (WHERE status = 'failed')::int AS failed,
                count(*) FILTER (WHERE status = 'pending')::int AS pending
           FROM webhook_deliveries WHERE created_at >= $1 AND ($2::text IS NULL OR tenant_id = $2)`,
        [since, tenant],
      ),
      this.dataSource.query(`SELECT count(*)::int AS pending FROM dead_letters WHERE status = 'pending'`),
      this.queueDepths(),
    ]);
    const rate = (ok: number, total: number) =>
      total === 0 ? null : Math.round((ok / total) * 10_000) / 10_000;
    return {
      window,
      since: since.toISOString(),
      transactions: transactions.map((r: Record<string, number>) => ({
        type: r.type,
        total: r.total,
        succeeded: r.succeeded,
        failed: r.failed,
        open: r.open,
        perSecond: Math.round((r.total / seconds) * 1000) / 1000,
        successRate: rate(r.succeeded, r.succeeded + r.failed),
        latencyMs: { p50: ms(r.p50), p95: ms(r.p95), p99: ms(r.p99) },
      })),
      usage: usage.map((r: Record<string, number | string>) => ({
        type: r.type,
        processed: r.processed,
        charged: r.charged,
        unbilled: r.unbilled,
        amount: r.amount,
        perSecond: Math.round((Number(r.processed) / seconds) * 1000) / 1000,
        latencyMs: { p50: ms(r.p50), p95: ms(r.p95), p99: ms(r.p99) },
      })),
      outbox: {
        backlog: outbox[0].backlog,
        oldestUnpublishedSeconds: ms(outbox[0].oldest_seconds),
        publishLagMs: { p50: ms(outbox[0].lag_p50), p99: ms(outbox[0].lag_p99) },
      },
      webhooks: {
        ...webhooks[0],
        successRate: rate(webhooks[0].succeeded, webhooks[0].succeeded + webhooks[0].failed),
      },
      deadLetters: { pending: deadLetters[0].pending },
      queues,
      // Each service is up when it consumes its queue (the database and broker answered above).
      services: [
        { name: 'database', up: true },
        { name: 'broker', up: queues.some((q) => q.messages !== null) },
        ...[
          ['transaction-worker', 'transaction-worker.commands'],
          ['notification', 'notification.events'],
          ['admin', 'admin.events'],
        ].map(([name, queue]) => ({
          name,
          up: (queues.find((q) => q.queue === queue)?.consumers ?? 0) > 0,
        })),
      ],
    };
  }

  /** Depth and consumers of every queue and its DLQ, from the broker. */
  private async queueDepths() {
    // Logical names (no prefix) for people; the broker is asked with the physical ones.
    const names = this.topology.queues.flatMap((q) => [q.name, `${q.name}.dlq`]);
    this.channel ??= this.amqp.manager.createChannel({ name: 'admin-metrics', json: false });
    await this.channel.waitForConnect();
    const out = [];
    for (const name of names) {
      try {
        const info = await this.channel.checkQueue(this.topology.queue(name));
        out.push({ queue: name, messages: info.messageCount, consumers: info.consumerCount });
      } catch {
        out.push({ queue: name, messages: null, consumers: null });
      }
    }
    return out;
  }

  async onModuleDestroy(): Promise<void> {
    await this.channel?.close();
  }
}
