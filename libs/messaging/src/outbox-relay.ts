import { Logger } from '@nestjs/common';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import type { OutboxConfig } from '#config';
import type { Metrics } from '#observability';
import { PgListener, poolOf, type OutboxSignal } from '#persistence';
import { faultPoint } from './fault-points.js';
import { UnknownExchangeError, type MessagePublisher, type OutgoingMessage } from './publisher.js';

interface OutboxRow {
  id: string;
  message_id: string;
  exchange: string;
  routing_key: string;
  message_type: string;
  schema_version: number;
  payload: string;
  headers: Record<string, unknown>;
  correlation_id: string | null;
  created_at: Date;
}

export type OutboxRelayOptions = Pick<OutboxConfig, 'OUTBOX_BATCH_SIZE' | 'OUTBOX_POLL_INTERVAL_MS'> & {
  databaseUrl: string;
};

const BACKLOG_SAMPLE_MS = 5_000;

/**
 * Publishes committed outbox rows. Claims a batch with FOR UPDATE SKIP LOCKED (so any number of
 * relays can run without skipping or sharing rows), publishes them with pipelined confirms, and
 * marks the confirmed ones published in the same transaction. A crash between confirm and commit
 * publishes those rows again later: delivery is at-least-once and consumers deduplicate.
 * Woken in-process by OutboxSignal and across processes by LISTEN/NOTIFY; a slow poll is the
 * source of truth.
 */
export class OutboxRelay {
  private readonly log = new Logger(OutboxRelay.name);
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private woken = false;
  private readonly listener: PgListener;
  private unsubscribe?: () => void;
  private lastSample = 0;
  private readonly batchSize: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: MessagePublisher,
    private readonly metrics: Metrics,
    private readonly options: OutboxRelayOptions,
    private readonly signal?: OutboxSignal,
  ) {
    this.listener = new PgListener(options.databaseUrl, 'tally_outbox', () => this.poke());
    this.batchSize = options.OUTBOX_BATCH_SIZE;
    if (!Number.isSafeInteger(this.batchSize) || this.batchSize < 1) {
      throw new Error(`OUTBOX_BATCH_SIZE must be a positive integer, not ${this.batchSize}`);
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.signal?.onCommitted(() => this.poke());
    this.listener.start();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.poke();
    await this.loop;
    await this.listener.stop();
  }

  /**
   * Publishes one batch; returns how many rows it claimed. Two round trips to Postgres, however
   * many rows: the claim opens the transaction (BEGIN, the scan setting and the SELECT sent as one
   * simple query) and the mark closes it (UPDATE and COMMIT together). Under load the relay runs
   * back to back and these round trips were most of its database traffic (five per batch before).
   */
  async relayOnce(): Promise<number> {
    const client = await poolOf(this.dataSource).connect();
    // While checked out, an error the server sends between queries (a restart's "terminating
    // connection", say) is emitted on the client: without a listener it would end the process.
    let broken: Error | undefined;
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      // An index scan (in id order) marks the index entries of already-published rows dead as it
      // passes them, so the next claim skips them; a bitmap scan never does, and between vacuums
      // every claim would wade through every row published since the last vacuum.
      const claim = await client.query<OutboxRow>(
        `BEGIN;
         SET LOCAL enable_bitmapscan = off;
         SELECT id, message_id, exchange, routing_key, message_type, schema_version, payload::text AS payload,
                headers, correlation_id, created_at
           FROM outbox
          WHERE published_at IS NULL AND parked_at IS NULL
          ORDER BY id
          LIMIT ${this.batchSize}
            FOR UPDATE SKIP LOCKED`,
      );
      const rows = (claim as unknown as pg.QueryResult<OutboxRow>[])[2].rows;
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const results = await this.publisher.publishAll(rows.map(toMessage));
      faultPoint('relay.after-confirm');
      const confirmed = rows.filter((_, i) => results[i].status === 'fulfilled');
      const failed = rows.flatMap((row, i) => {
        const result = results[i];
        if (result.status === 'fulfilled') return [];
        const reason = result.reason as Error;
        // Never publishable: parked, so it cannot hold up the rows behind it. The rest are tried again.
        return [
          { row, error: String(reason?.message ?? reason), park: reason instanceof UnknownExchangeError },
        ];
      });
      if (failed.length > 0) {
        await client.query(
          `UPDATE outbox o SET publish_attempts = o.publish_attempts + 1, last_error = left(f.error, 1000),
                  parked_at = CASE WHEN f.park THEN clock_timestamp() END
             FROM unnest($1::bigint[], $2::text[], $3::bool[]) AS f(id, error, park) WHERE o.id = f.id`,
          [failed.map((f) => f.row.id), failed.map((f) => f.error), failed.map((f) => f.park)],
        );
        for (const f of failed.filter((f) => f.park)) {
          this.log.error(`outbox message ${f.row.message_id} parked, it can never be published: ${f.error}`);
        }
        const retried = failed.filter((f) => !f.park);
        if (retried.length > 0) {
          this.log.warn(
            `${retried.length} of ${rows.length} outbox messages not confirmed: ${retried[0].error}`,
          );
        }
      }
      await client.query(
        confirmed.length > 0
          ? `UPDATE outbox SET published_at = clock_timestamp(), publish_attempts = publish_attempts + 1
              WHERE id IN (${confirmed.map((r) => bigintLiteral(r.id)).join(',')});
             COMMIT`
          : 'COMMIT',
      );
      const now = Date.now();
      for (const row of confirmed) {
        this.metrics.outboxPublishLag.observe((now - row.created_at.getTime()) / 1000);
        this.metrics.messagesPublished.inc({ exchange: row.exchange });
      }
      return rows.length;
    } catch (error) {
      // A failed statement leaves the transaction aborted: roll back, or drop the connection.
      await client.query('ROLLBACK').catch(() => (broken ??= error as Error));
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let claimed = 0;
      try {
        claimed = await this.relayOnce();
        failures = 0;
        await this.sampleBacklog();
      } catch (error) {
        failures++;
        this.log.error(`outbox relay batch failed: ${(error as Error).message}`);
      }
      if (!this.running) break;
      // A full batch means more are waiting: go again at once. Otherwise sleep until woken.
      if (claimed < this.options.OUTBOX_BATCH_SIZE || failures > 0) {
        const backoff =
          failures > 0 ? Math.min(100 * 2 ** failures, 5_000) : this.options.OUTBOX_POLL_INTERVAL_MS;
        await this.sleep(backoff);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private poke(): void {
    if (this.wake) this.wake();
    else this.woken = true;
  }

  private async sampleBacklog(): Promise<void> {
    const now = Date.now();
    if (now - this.lastSample < BACKLOG_SAMPLE_MS) return;
    this.lastSample = now;
    const [row] = await this.dataSource.query(
      `SELECT count(*)::int AS backlog, EXTRACT(EPOCH FROM clock_timestamp() - min(created_at))::float8 AS age
         FROM outbox WHERE published_at IS NULL`,
    );
    this.metrics.outboxBacklog.set(row.backlog);
    this.metrics.outboxOldestUnpublishedAge.set(row.age ?? 0);
  }
}

/** An outbox id (a bigint, read back from Postgres as text) written into a statement. */
function bigintLiteral(id: string): string {
  if (!/^\d{1,19}$/.test(id)) throw new Error(`not an outbox id: ${id}`);
  return id;
}

function toMessage(row: OutboxRow): OutgoingMessage {
  return {
    exchange: row.exchange,
    routingKey: row.routing_key,
    messageId: row.message_id,
    type: row.message_type,
    body: row.payload,
    correlationId: row.correlation_id,
    schemaVersion: row.schema_version,
    headers: row.headers,
    timestamp: row.created_at,
  };
}
