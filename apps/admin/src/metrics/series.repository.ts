import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { idFloor } from '#domain';

/** A window cut into buckets: [from, to) in `step`-second buckets, the first starting at `from`. */
export interface Window {
  from: Date;
  to: Date;
  step: number;
}

/** One point of a series: the bucket's start (Unix seconds) and its value. */
export interface Point {
  name: string;
  t: number;
  value: number | string | null;
}

/** Ids carry their creation time; a minute either side covers the clock skew to `created_at`. */
const SKEW_MS = 60_000;
/** A bucket's start in Unix seconds: `date_bin` from the window's start. */
const bucket = (column: string) =>
  `extract(epoch FROM date_bin(make_interval(secs => $3), ${column}, $1))::bigint`;
const ms = (expr: string, p: number) =>
  `round((percentile_cont(${p}) WITHIN GROUP (ORDER BY extract(epoch FROM ${expr}) * 1000))::numeric, 3)::float8`;

/**
 * The dashboard's time series. Throughput, latency and publish lag are counted exactly from the
 * transactions, usage and outbox tables (`date_bin` over an index range); queue depths and the
 * outbox backlog come from the samples the admin writes (`metric_samples`).
 */
@Injectable()
export class SeriesRepository {
  /** Transactions created per bucket by type, and usage events processed per bucket. */
  async throughput(m: EntityManager, w: Window, tenantId: string | null): Promise<Point[]> {
    const rows: { name: string; t: string; value: number }[] = await m.query(
      `SELECT type AS name, ${bucket('created_at')} AS t, count(*)::int AS value
         FROM transactions
        WHERE id >= $4 AND id < $5 AND created_at >= $1 AND created_at < $2 AND ($6::text IS NULL OR tenant_id = $6)
        GROUP BY 1, 2
       UNION ALL
       SELECT 'usage events', ${bucket('processed_at')}, count(*)::int
         FROM usage_processed
        WHERE processed_at >= $1 AND processed_at < $2 AND ($6::text IS NULL OR tenant_id = $6)
        GROUP BY 1, 2`,
      [...this.window(w), ...this.idRange('txn', w), tenantId],
    );
    return rows.map((r) => ({ name: r.name, t: Number(r.t), value: r.value }));
  }

  /** Percentiles (ms) of accepted-to-final of the transactions created in each bucket. */
  async latency(m: EntityManager, w: Window, tenantId: string | null): Promise<Point[]> {
    const lag = 'completed_at - created_at';
    const rows: { t: string; p50: number; p95: number; p99: number }[] = await m.query(
      `SELECT ${bucket('created_at')} AS t, ${ms(lag, 0.5)} AS p50, ${ms(lag, 0.95)} AS p95, ${ms(lag, 0.99)} AS p99
         FROM transactions
        WHERE id >= $4 AND id < $5 AND created_at >= $1 AND created_at < $2 AND completed_at IS NOT NULL
          AND ($6::text IS NULL OR tenant_id = $6)
        GROUP BY 1`,
      [...this.window(w), ...this.idRange('txn', w), tenantId],
    );
    return rows.flatMap((r) =>
      (['p50', 'p95', 'p99'] as const).map((name) => ({ name, t: Number(r.t), value: r[name] })),
    );
  }

  /** Publish lag (ms) of the messages published in each bucket, and the sampled backlog. */
  async outbox(m: EntityManager, w: Window): Promise<Point[]> {
    const lag = 'published_at - created_at';
    const rows: { t: string; p50: number; p99: number; max: number }[] = await m.query(
      `SELECT ${bucket('published_at')} AS t, ${ms(lag, 0.5)} AS p50, ${ms(lag, 0.99)} AS p99,
              round((max(extract(epoch FROM ${lag})) * 1000)::numeric, 3)::float8 AS max
         FROM outbox WHERE published_at >= $1 AND published_at < $2
        GROUP BY 1`,
      this.window(w),
    );
    const lags = rows.flatMap((r) =>
      (['p50', 'p99', 'max'] as const).map((p) => ({ name: `lag ${p}`, t: Number(r.t), value: r[p] })),
    );
    return [...lags, ...(await this.samples(m, w, 'outbox.backlog', 'backlog'))];
  }

  /** Each queue's sampled depth: the highest sample in each bucket. */
  async queues(m: EntityManager, w: Window): Promise<Point[]> {
    return this.samples(m, w, 'queue:%', null);
  }

  /**
   * Metered usage of a tenant per meter and bucket of occurrence: events, quantity and the amount
   * charged (minor units, exact as text), optionally of one account or one meter.
   */
  async usage(
    m: EntityManager,
    w: Window,
    f: { tenantId: string; accountId?: string; meterId?: string },
  ): Promise<
    {
      meterId: string;
      eventType: string;
      currency: string;
      t: number;
      events: number;
      quantity: string;
      amount: string;
    }[]
  > {
    const rows: {
      meter_id: string;
      event_type: string;
      currency: string;
      t: string;
      events: number;
      quantity: string;
      amount: string;
    }[] = await m.query(
      `SELECT p.meter_id, m.event_type, m.currency, ${bucket('p.occurred_at')} AS t, count(*)::int AS events,
              coalesce(sum(p.quantity), 0)::text AS quantity,
              coalesce(sum(p.amount) FILTER (WHERE p.billing_status = 'charged'), 0)::text AS amount
         FROM usage_processed p JOIN meters m ON m.id = p.meter_id
        WHERE p.tenant_id = $4 AND p.occurred_at >= $1 AND p.occurred_at < $2
          AND ($5::text IS NULL OR p.account_id = $5) AND ($6::text IS NULL OR p.meter_id = $6)
        GROUP BY 1, 2, 3, 4`,
      [...this.window(w), f.tenantId, f.accountId ?? null, f.meterId ?? null],
    );
    return rows.map((r) => ({
      meterId: r.meter_id,
      eventType: r.event_type,
      currency: r.currency,
      t: Number(r.t),
      events: r.events,
      quantity: r.quantity,
      amount: r.amount,
    }));
  }

  /** The unpublished messages now (parked ones included: they are a backlog too). */
  async outboxBacklog(m: EntityManager): Promise<number> {
    const [row] = await m.query(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`);
    return row.n;
  }

  /**
   * Writes one sample per series at the start of the current `intervalSeconds` interval; a sample
   * another replica wrote already for that instant stays. Answers how many it wrote.
   */
  async writeSamples(
    m: EntityManager,
    intervalSeconds: number,
    values: { series: string; value: number }[],
  ): Promise<number> {
    if (values.length === 0) return 0;
    const rows: unknown[] = await m.query(
      `INSERT INTO metric_samples (series, sampled_at, value)
       SELECT s, date_bin(make_interval(secs => $3), now(), 'epoch'), v
         FROM unnest($1::text[], $2::float8[]) AS x(s, v)
       ON CONFLICT (series, sampled_at) DO NOTHING RETURNING 1`,
      [values.map((v) => v.series), values.map((v) => v.value), intervalSeconds],
    );
    return rows.length;
  }

  /** Deletes the samples older than `days`, at most 10 000 a run (the next run takes the rest). */
  async pruneSamples(m: EntityManager, days: number): Promise<number> {
    const [, deleted] = await m.query(
      `DELETE FROM metric_samples WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM metric_samples WHERE sampled_at < now() - make_interval(days => $1) LIMIT 10000))`,
      [days],
    );
    return deleted as number;
  }

  /** The highest sample per bucket of the series matching `like`, named `name` or by their suffix. */
  private async samples(m: EntityManager, w: Window, like: string, name: string | null): Promise<Point[]> {
    const rows: { series: string; t: string; value: number }[] = await m.query(
      `SELECT series, ${bucket('sampled_at')} AS t, max(value) AS value
         FROM metric_samples WHERE series LIKE $4 AND sampled_at >= $1 AND sampled_at < $2
        GROUP BY 1, 2`,
      [...this.window(w), like],
    );
    return rows.map((r) => ({
      name: name ?? r.series.slice(r.series.indexOf(':') + 1),
      t: Number(r.t),
      value: r.value,
    }));
  }

  private window(w: Window): [Date, Date, number] {
    return [w.from, w.to, w.step];
  }

  private idRange(prefix: 'txn', w: Window): [string, string] {
    return [idFloor(prefix, w.from.getTime() - SKEW_MS), idFloor(prefix, w.to.getTime() + SKEW_MS)];
  }
}
