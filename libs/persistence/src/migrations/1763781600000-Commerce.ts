import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Commerce: a catalog with stock that never oversells, and orders paid from wallets through holds.
 *
 * A product's stock is three counters (units received, reserved by live orders, sold); the CHECK
 * `stock_reserved + stock_sold <= stock_received` makes overselling impossible whatever the caller.
 * `version` serves optimistic updates, `lock_fence` the fencing check of the Redis lock (a writer
 * holding an older token than the last one written is refused). `search` is the stored text-search
 * vector (name, then category, then description) behind `?q=`.
 *
 * An order keeps its lines at the prices it was placed at, the hold that pays for it and, once
 * completed, the capture transaction. `reserved_until` is when the reservation sweep cancels an
 * order still `reserved`.
 */
export class Commerce1763781600000 implements MigrationInterface {
  name = 'Commerce1763781600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE products (
        id             text PRIMARY KEY,
        tenant_id      text NOT NULL REFERENCES tenants (id),
        sku            text NOT NULL CHECK (length(sku) BETWEEN 1 AND 64),
        name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        description    text CHECK (length(description) <= 5000),
        category       text CHECK (length(category) BETWEEN 1 AND 100),
        price          bigint NOT NULL CHECK (price > 0),
        currency       text NOT NULL CHECK (currency ~ '^[A-Z][A-Z0-9]{2,9}$'),
        status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
        metadata       jsonb NOT NULL DEFAULT '{}',
        stock_received bigint NOT NULL DEFAULT 0,
        stock_reserved bigint NOT NULL DEFAULT 0 CHECK (stock_reserved >= 0),
        stock_sold     bigint NOT NULL DEFAULT 0 CHECK (stock_sold >= 0),
        version        bigint NOT NULL DEFAULT 0,
        lock_fence     bigint NOT NULL DEFAULT 0,
        search         tsvector GENERATED ALWAYS AS (
                         setweight(to_tsvector('english', name), 'A') ||
                         setweight(to_tsvector('english', coalesce(category, '')), 'B') ||
                         setweight(to_tsvector('english', coalesce(description, '')), 'C')
                       ) STORED,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT products_no_oversell CHECK (stock_reserved + stock_sold <= stock_received),
        UNIQUE (tenant_id, sku)
      ) WITH (fillfactor = 80)`);
    await q.query(`CREATE INDEX products_search_idx ON products USING gin (search)`);
    await q.query(
      `CREATE INDEX products_newest_idx ON products (tenant_id, status, created_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX products_category_idx ON products (tenant_id, category, created_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX products_price_idx ON products (tenant_id, status, price, id)`);

    await q.query(`
      CREATE TABLE orders (
        id              text PRIMARY KEY,
        tenant_id       text NOT NULL REFERENCES tenants (id),
        account_id      text NOT NULL REFERENCES accounts (id),
        status          text NOT NULL DEFAULT 'reserved'
                          CHECK (status IN ('reserved', 'completed', 'cancelled', 'failed')),
        total           bigint NOT NULL CHECK (total > 0),
        currency        text NOT NULL,
        hold_id         text NOT NULL UNIQUE REFERENCES holds (id),
        transaction_id  text UNIQUE REFERENCES transactions (id),
        customer_email  text,
        failure_code    text,
        failure_message text,
        metadata        jsonb NOT NULL DEFAULT '{}',
        correlation_id  text,
        reserved_until  timestamptz NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        completed_at    timestamptz,
        CHECK ((status = 'completed') = (transaction_id IS NOT NULL)),
        CHECK ((status = 'failed') = (failure_code IS NOT NULL)),
        CHECK ((status = 'reserved') = (completed_at IS NULL))
      )`);
    await q.query(`CREATE INDEX orders_account_idx ON orders (tenant_id, account_id, id DESC)`);
    await q.query(`CREATE INDEX orders_status_idx ON orders (tenant_id, status, id DESC)`);
    await q.query(`CREATE INDEX orders_reservation_idx ON orders (reserved_until) WHERE status = 'reserved'`);

    await q.query(`
      CREATE TABLE order_items (
        order_id    text NOT NULL REFERENCES orders (id),
        position    smallint NOT NULL CHECK (position >= 0),
        product_id  text NOT NULL REFERENCES products (id),
        sku         text NOT NULL,
        name        text NOT NULL,
        quantity    integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
        unit_price  bigint NOT NULL CHECK (unit_price > 0),
        amount      bigint NOT NULL CHECK (amount = unit_price * quantity),
        PRIMARY KEY (order_id, position),
        UNIQUE (order_id, product_id)
      )`);
    await q.query(`CREATE INDEX order_items_product_idx ON order_items (product_id)`);

    await q.query(`GRANT SELECT, INSERT, UPDATE ON products, orders, order_items TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE order_items`);
    await q.query(`DROP TABLE orders`);
    await q.query(`DROP TABLE products`);
  }
}
