import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The dashboard's sampled history: what cannot be recomputed from the ledger, the outbox or the
 * usage tables afterwards — queue depths (the broker keeps no history) and the outbox backlog at an
 * instant. The admin app writes one row per series every few seconds, at the start of its interval
 * (`sampled_at` is binned), so several admin replicas write each sample once (ON CONFLICT DO
 * NOTHING); it deletes the rows older than its retention. Throughput, latency and publish lag are
 * not sampled: they are counted exactly from their own tables.
 */
export class MetricSamples1763803200000 implements MigrationInterface {
  name = 'MetricSamples1763803200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE metric_samples (
        series      text NOT NULL CHECK (length(series) BETWEEN 1 AND 200),
        sampled_at  timestamptz NOT NULL,
        value       double precision NOT NULL,
        PRIMARY KEY (series, sampled_at)
      )`);
    // The window's samples of every series (the chart), and the oldest ones (the pruning).
    await q.query(`CREATE INDEX metric_samples_time_idx ON metric_samples (sampled_at)`);
    await q.query(`GRANT SELECT, INSERT, DELETE ON metric_samples TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE metric_samples`);
  }
}
