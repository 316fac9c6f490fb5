import type pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/** The pg pool under a TypeORM data source, for what TypeORM's API cannot say (named statements, pipelined text). */
export function poolOf(dataSource: DataSource): pg.Pool {
  return (dataSource.driver as unknown as { master: pg.Pool }).master;
}

/**
 * Runs `text` as a named prepared statement on the data source's pool: each connection parses
 * and plans it once, then only binds and executes. For the hottest statements, where planning
 * costs as much as running (the gateway's one-statement accept, for one).
 * Autocommit: the statement is its own transaction. `name` must always go with the same text.
 */
export async function queryPrepared<T>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const result = await poolOf(dataSource).query<T & pg.QueryResultRow>({ name, text, values });
  return result.rows;
}

/**
 * `queryPrepared` inside the caller's transaction: on the connection of `manager` (from
 * DataSource.transaction), or on the pool, autocommit, for a manager outside one. For the
 * worker's per-batch inserts (inbox, ledger entries, outbox), parsed and planned again for every
 * batch otherwise. Only for statements whose plan cannot go stale: a cached generic plan is
 * made while a table is small and kept until the table is next analysed, and grows slower as the
 * table grows; statements that read or join growing tables stay unnamed and are planned each time.
 */
export async function queryPreparedIn<T>(
  manager: EntityManager,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const runner = manager.queryRunner;
  if (!runner) return queryPrepared<T>(manager.connection, name, text, values);
  const client = (await runner.connect()) as pg.PoolClient;
  const result = await client.query<T & pg.QueryResultRow>({ name, text, values });
  return result.rows;
}
