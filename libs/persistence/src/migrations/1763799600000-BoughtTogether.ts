import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * "Bought together": how often two products were in the same completed order.
 *
 * `product_pairs` holds the count both ways (a → b and b → a), so a product's neighbours are one
 * index range. `orders.paired_at` is the job's checkpoint, kept per order: the job counts
 * completed orders whose `paired_at` is null and sets it in the same transaction, so an order
 * that committed late is never skipped and none is counted twice; the partial index holds only
 * the orders still to count, so a run stays cheap however many orders there are.
 * `product_pairs_unsynced` lists the products whose Redis copy is behind (written with the counts,
 * cleared once Redis has them): Redis down only delays the copy, it never loses an update.
 */
export class BoughtTogether1763799600000 implements MigrationInterface {
  name = 'BoughtTogether1763799600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE product_pairs (
        product_id  text NOT NULL REFERENCES products (id),
        other_id    text NOT NULL REFERENCES products (id),
        tenant_id   text NOT NULL REFERENCES tenants (id),
        count       bigint NOT NULL CHECK (count > 0),
        PRIMARY KEY (product_id, other_id),
        CHECK (product_id <> other_id)
      )`);
    await q.query(`CREATE INDEX product_pairs_top_idx ON product_pairs (product_id, count DESC)`);
    await q.query(`
      CREATE TABLE product_pairs_unsynced (
        product_id  text PRIMARY KEY REFERENCES products (id),
        tenant_id   text NOT NULL REFERENCES tenants (id)
      )`);
    await q.query(`ALTER TABLE orders ADD COLUMN paired_at timestamptz`);
    await q.query(
      `CREATE INDEX orders_unpaired_idx ON orders (completed_at, id) WHERE status = 'completed' AND paired_at IS NULL`,
    );
    await q.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON product_pairs, product_pairs_unsynced TO tally_app`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX orders_unpaired_idx`);
    await q.query(`ALTER TABLE orders DROP COLUMN paired_at`);
    await q.query(`DROP TABLE product_pairs_unsynced`);
    await q.query(`DROP TABLE product_pairs`);
  }
}
