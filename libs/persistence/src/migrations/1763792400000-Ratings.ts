import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ratings: one per account and product (a second replaces the first), taken only from buyers.
 *
 * The product keeps `rating_count` and `rating_total` in step with its ratings, written in the
 * same transaction under the product's row lock, so the ranking reads one row per product and
 * never aggregates ratings at query time. The CHECK keeps the pair coherent (every rating is 1–5).
 */
export class Ratings1763792400000 implements MigrationInterface {
  name = 'Ratings1763792400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE products
        ADD COLUMN rating_count bigint NOT NULL DEFAULT 0,
        ADD COLUMN rating_total bigint NOT NULL DEFAULT 0,
        ADD CONSTRAINT products_rating_tally
          CHECK (rating_count >= 0 AND rating_total BETWEEN rating_count AND 5 * rating_count)`);
    await q.query(`
      CREATE TABLE product_ratings (
        product_id  text NOT NULL REFERENCES products (id),
        account_id  text NOT NULL REFERENCES accounts (id),
        tenant_id   text NOT NULL REFERENCES tenants (id),
        rating      smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
        comment     text CHECK (length(comment) <= 2000),
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (product_id, account_id)
      )`);
    await q.query(`CREATE INDEX product_ratings_account_idx ON product_ratings (account_id)`);
    // "Has this account a completed order for this product?" from the product side.
    await q.query(`CREATE INDEX order_items_product_order_idx ON order_items (product_id, order_id)`);
    await q.query(`DROP INDEX order_items_product_idx`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON product_ratings TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX order_items_product_idx ON order_items (product_id)`);
    await q.query(`DROP INDEX order_items_product_order_idx`);
    await q.query(`DROP TABLE product_ratings`);
    await q.query(`ALTER TABLE products DROP CONSTRAINT products_rating_tally,
      DROP COLUMN rating_total, DROP COLUMN rating_count`);
  }
}
