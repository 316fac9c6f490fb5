import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';

/** Products written, by tenant: tenant id → product ids. */
export type ProductWrites = Map<string, Set<string>>;

/**
 * Told about every committed write to a product row (its fields, stock or rating tally), so a
 * cache can drop what it holds of them (docs/architecture.md, "Product cache").
 *
 * `beforeCommit` runs just before COMMIT (the rows are still locked); `afterCommit` right after
 * it, before the transaction's caller goes on (so before any request that made the write answers).
 * `afterCommit` also runs after a rollback with `committed: false`, so whatever `beforeCommit`
 * set up is taken down. Listeners must not throw (a failure is theirs to count and retry).
 */
export interface ProductWriteListener {
  beforeCommit(writes: ProductWrites): Promise<unknown>;
  afterCommit(writes: ProductWrites, committed: boolean, began: unknown): Promise<void>;
}

const WRITES = 'tallyProductWrites';
const BEGAN = 'tallyProductWritesBegan';
const listeners = new WeakMap<DataSource, ProductWriteListener[]>();

type RunnerData = { [WRITES]?: ProductWrites; [BEGAN]?: unknown[] };

function dataOf(runner: QueryRunner): RunnerData {
  return runner.data as RunnerData;
}

/** Depth 1 is the outermost transaction; deeper commits only release a savepoint. */
function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth?: number }).transactionDepth ?? 1;
}

class ProductWritesSubscriber implements EntitySubscriberInterface {
  constructor(private readonly dataSource: DataSource) {}

  async beforeTransactionCommit(event: { queryRunner: QueryRunner }): Promise<void> {
    const data = dataOf(event.queryRunner);
    const writes = data[WRITES];
    if (!writes || writes.size === 0 || depthOf(event.queryRunner) !== 1) return;
    data[BEGAN] = await Promise.all(
      (listeners.get(this.dataSource) ?? []).map((l) => l.beforeCommit(writes)),
    );
  }

  async afterTransactionCommit(event: { queryRunner: QueryRunner }): Promise<void> {
    if (event.queryRunner.isTransactionActive) return; // a savepoint: the outer transaction goes on
    await this.finish(event.queryRunner, true);
  }

  async afterTransactionRollback(event: { queryRunner: QueryRunner }): Promise<void> {
    if (event.queryRunner.isTransactionActive) return;
    await this.finish(event.queryRunner, false);
  }

  private async finish(runner: QueryRunner, committed: boolean): Promise<void> {
    const data = dataOf(runner);
    const writes = data[WRITES];
    const began = data[BEGAN] ?? [];
    delete data[WRITES];
    delete data[BEGAN];
    if (!writes || writes.size === 0) return;
    const all = listeners.get(this.dataSource) ?? [];
    await Promise.all(all.map((l, i) => l.afterCommit(writes, committed, began[i])));
  }
}

/** Calls `listener` around every transaction (of this data source) that wrote products. */
export function listenToProductWrites(dataSource: DataSource, listener: ProductWriteListener): void {
  const known = listeners.get(dataSource);
  if (known) {
    known.push(listener);
    return;
  }
  listeners.set(dataSource, [listener]);
  dataSource.subscribers.push(new ProductWritesSubscriber(dataSource));
}

/**
 * Notes that these products were written through `manager`: in a transaction, its listeners run
 * around the COMMIT; outside one (the statement has committed already), at once.
 */
export async function productsWritten(
  manager: EntityManager,
  rows: { tenantId: string; id: string }[],
): Promise<void> {
  if (rows.length === 0) return;
  const runner = manager.queryRunner;
  const writes: ProductWrites = runner?.isTransactionActive
    ? (dataOf(runner)[WRITES] ??= new Map())
    : new Map();
  for (const { tenantId, id } of rows) {
    let ids = writes.get(tenantId);
    if (!ids) writes.set(tenantId, (ids = new Set()));
    ids.add(id);
  }
  if (runner?.isTransactionActive) return;
  // Committed already: nothing to fence before, only to invalidate now.
  const all = listeners.get(manager.dataSource) ?? [];
  await Promise.all(all.map((l) => l.afterCommit(writes, true, undefined)));
}
