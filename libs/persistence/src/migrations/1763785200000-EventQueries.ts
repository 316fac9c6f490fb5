import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Usage events you can query, and event type schemas.
 *
 * The list (`GET /v1/events`) pages newest first by (received_at, id) inside a tenant, optionally
 * filtered by type, account or status; each filter has an index that serves it in that order, so a
 * page reads about `limit` rows whatever the table's size. Pending and failed events are few next to
 * processed ones: two partial indexes hold them, by status and by type and status (a
 * `status=processed` page walks the main or the type index).
 * The main index carries type and status so the stats (`GET /v1/events/stats`) count a range from
 * the index alone. docs/performance.md has the plans at 5 million events.
 *
 * `event_types`: a JSON Schema per tenant and type. `version` counts the tenant's changes (1 at
 * creation, +1 per PUT); `revision` is unique across all rows ever written (a sequence), so a
 * process caching a compiled schema knows it stale even after a DELETE and a new POST.
 */
export class EventQueries1763785200000 implements MigrationInterface {
  name = 'EventQueries1763785200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX usage_events_received_idx`);
    await q.query(
      `CREATE INDEX usage_events_list_idx ON usage_events (tenant_id, received_at DESC, id DESC) INCLUDE (type, status)`,
    );
    await q.query(
      `CREATE INDEX usage_events_type_list_idx ON usage_events (tenant_id, type, received_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX usage_events_account_list_idx ON usage_events (tenant_id, account_id, received_at DESC, id DESC)
        WHERE account_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX usage_events_open_list_idx ON usage_events (tenant_id, status, received_at DESC, id DESC)
        WHERE status <> 'processed'`,
    );
    await q.query(
      `CREATE INDEX usage_events_open_type_list_idx ON usage_events (tenant_id, type, status, received_at DESC, id DESC)
        WHERE status <> 'processed'`,
    );

    // The stats group by UTC day or hour of receipt: without statistics on those expressions the
    // planner takes them for as many groups as events, and sorts millions of rows (to disk)
    // instead of hashing a few dozen buckets.
    await q.query(
      `CREATE STATISTICS usage_events_day_stats ON (date_trunc('day', received_at AT TIME ZONE 'UTC')) FROM usage_events`,
    );
    await q.query(
      `CREATE STATISTICS usage_events_hour_stats ON (date_trunc('hour', received_at AT TIME ZONE 'UTC')) FROM usage_events`,
    );

    await q.query(`CREATE SEQUENCE event_type_revisions`);
    await q.query(`
      CREATE TABLE event_types (
        tenant_id  text NOT NULL REFERENCES tenants (id),
        type       text NOT NULL,
        schema     jsonb NOT NULL,
        version    integer NOT NULL DEFAULT 1 CHECK (version > 0),
        revision   bigint NOT NULL DEFAULT nextval('event_type_revisions'),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, type)
      )`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON event_types TO tally_app`);
    await q.query(`GRANT USAGE, SELECT ON SEQUENCE event_type_revisions TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE event_types`);
    await q.query(`DROP SEQUENCE event_type_revisions`);
    await q.query(`DROP STATISTICS usage_events_hour_stats, usage_events_day_stats`);
    await q.query(`DROP INDEX usage_events_open_type_list_idx, usage_events_open_list_idx, usage_events_account_list_idx, usage_events_type_list_idx,
      usage_events_list_idx`);
    await q.query(`CREATE INDEX usage_events_received_idx ON usage_events (tenant_id, received_at DESC)`);
  }
}
