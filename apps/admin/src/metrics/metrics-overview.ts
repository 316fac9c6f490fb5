import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MetricsRepository } from './metrics.repository.js';
import { QueueDepths } from './queue-depths.js';

export const WINDOWS = { '5m': 300, '15m': 900, '1h': 3600, '6h': 21_600, '24h': 86_400 } as const;
export type MetricsWindow = keyof typeof WINDOWS;

const ms = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 1000) / 1000);
const rate = (ok: number, total: number) => (total === 0 ? null : Math.round((ok / total) * 10_000) / 10_000);

/** The dashboard's overview: throughput, success rates, latencies, backlog, queues, services. */
@Injectable()
export class MetricsOverview {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(MetricsRepository) private readonly metrics: MetricsRepository,
    @Inject(QueueDepths) private readonly queueDepths: QueueDepths,
  ) {}

  async of(window: MetricsWindow, tenantId: string | null) {
    const seconds = WINDOWS[window];
    const since = new Date(Date.now() - seconds * 1000);
    const m = this.dataSource.manager;
    const [transactions, usage, outbox, webhooks, deadLetters, queues] = await Promise.all([
      this.metrics.transactions(m, since, tenantId),
      this.metrics.usage(m, since, tenantId),
      this.metrics.outbox(m, since),
      this.metrics.webhooks(m, since, tenantId),
      this.metrics.pendingDeadLetters(m),
      this.queueDepths.all(),
    ]);
    return {
      window,
      since: since.toISOString(),
      transactions: transactions.map((r) => ({
        type: r.type,
        total: r.total,
        succeeded: r.succeeded,
        failed: r.failed,
        open: r.open,
        perSecond: Math.round((r.total / seconds) * 1000) / 1000,
        successRate: rate(r.succeeded, r.succeeded + r.failed),
        latencyMs: { p50: ms(r.p50), p95: ms(r.p95), p99: ms(r.p99) },
      })),
      usage: usage.map((r) => ({
        type: r.type,
        processed: r.processed,
        charged: r.charged,
        unbilled: r.unbilled,
        amount: r.amount,
        perSecond: Math.round((Number(r.processed) / seconds) * 1000) / 1000,
        latencyMs: { p50: ms(r.p50), p95: ms(r.p95), p99: ms(r.p99) },
      })),
      outbox: {
        backlog: outbox.backlog,
        oldestUnpublishedSeconds: ms(outbox.oldest_seconds),
        publishLagMs: { p50: ms(outbox.lag_p50), p99: ms(outbox.lag_p99) },
      },
      webhooks: { ...webhooks, successRate: rate(webhooks.succeeded, webhooks.succeeded + webhooks.failed) },
      deadLetters: { pending: deadLetters },
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
}
