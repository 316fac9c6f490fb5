import type { EntityManager } from 'typeorm';

/** A statement as a repository sends it. */
export interface SentStatement {
  sql: string;
  params: unknown[];
}

/** One node of a PostgreSQL plan (`EXPLAIN (FORMAT JSON)`): the fields the tests read. */
export interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Relation Name'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

/**
 * The statements a repository call sends, captured instead of run: each is answered `answer` (an
 * UPDATE … RETURNING reads `[rows, affected]` from TypeORM, a SELECT reads rows).
 */
export async function capturedStatements(
  call: (manager: EntityManager) => Promise<unknown>,
  answer: unknown = [],
): Promise<SentStatement[]> {
  const sent: SentStatement[] = [];
  const capturing = {
    query: async (sql: string, params: unknown[] = []) => {
      sent.push({ sql, params });
      return answer;
    },
  } as unknown as EntityManager;
  await call(capturing);
  return sent;
}

/** Every node of the statement's plan, planned with its parameters (not run), depth first. */
export async function planNodes(
  db: { query: (sql: string, params?: unknown[]) => Promise<{ 'QUERY PLAN': unknown }[]> },
  statement: SentStatement,
): Promise<PlanNode[]> {
  const [{ 'QUERY PLAN': plan }] = await db.query(`EXPLAIN (FORMAT JSON) ${statement.sql}`, statement.params);
  const nodes: PlanNode[] = [];
  const walk = (node: PlanNode): void => {
    nodes.push(node);
    (node.Plans ?? []).forEach(walk);
  };
  walk((plan as { Plan: PlanNode }[])[0].Plan);
  return nodes;
}
