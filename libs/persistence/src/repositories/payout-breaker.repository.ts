import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

export type StoredBreakerState = 'closed' | 'open' | 'half-open';

/** A provider's circuit breaker as a worker reported it. */
export interface PayoutBreakerReport {
  provider: string;
  state: StoredBreakerState;
  /** When it entered this state. */
  since: Date;
  consecutiveFailures: number;
  /** Open: when a trial call is let through (it reads as half-open from then on). */
  retryAt: Date | null;
  lastError: string | null;
  lastFailureAt: Date | null;
  /** The worker (host and process) that wrote it. */
  reportedBy: string;
  updatedAt?: Date;
}

/**
 * The payout providers' circuit breakers, as their workers last reported them: the worker writes
 * on each transition and failure, the admin reads. One row per provider: replicas calling the same
 * provider see the same outage, and the latest report wins.
 */
@Injectable()
export class PayoutBreakerRepository {
  async report(db: DataSource | EntityManager, r: PayoutBreakerReport): Promise<void> {
    await db.query(
      `INSERT INTO payout_breakers (provider, state, since, consecutive_failures, retry_at, last_error,
              last_failure_at, reported_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
       ON CONFLICT (provider) DO UPDATE SET state = excluded.state, since = excluded.since,
              consecutive_failures = excluded.consecutive_failures, retry_at = excluded.retry_at,
              last_error = coalesce(excluded.last_error, payout_breakers.last_error),
              last_failure_at = coalesce(excluded.last_failure_at, payout_breakers.last_failure_at),
              reported_by = excluded.reported_by, updated_at = now()`,
      [
        r.provider,
        r.state,
        r.since,
        r.consecutiveFailures,
        r.retryAt,
        r.lastError,
        r.lastFailureAt,
        r.reportedBy,
      ],
    );
  }

  /**
   * Every provider's breaker, by provider, as of now: an open one whose cool-down has passed lets
   * a trial call through (libs/domain's rule), so it reads as half-open since then.
   */
  async all(db: DataSource | EntityManager): Promise<PayoutBreakerReport[]> {
    const rows: {
      provider: string;
      state: StoredBreakerState;
      since: Date;
      consecutive_failures: number;
      retry_at: Date | null;
      last_error: string | null;
      last_failure_at: Date | null;
      reported_by: string;
      updated_at: Date;
    }[] = await db.query(
      `SELECT provider, consecutive_failures, retry_at, last_error, last_failure_at, reported_by, updated_at,
              CASE WHEN state = 'open' AND retry_at <= now() THEN 'half-open' ELSE state END AS state,
              CASE WHEN state = 'open' AND retry_at <= now() THEN retry_at ELSE since END AS since
         FROM payout_breakers ORDER BY provider`,
    );
    return rows.map((r) => ({
      provider: r.provider,
      state: r.state,
      since: r.since,
      consecutiveFailures: r.consecutive_failures,
      retryAt: r.retry_at,
      lastError: r.last_error,
      lastFailureAt: r.last_failure_at,
      reportedBy: r.reported_by,
      updatedAt: r.updated_at,
    }));
  }
}
