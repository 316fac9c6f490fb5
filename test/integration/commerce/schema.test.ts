import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { newId } from '#domain';
import { dropDatabase, migrateDatabase } from '#persistence';
import { openDataSource, separateDatabase } from '#test-support';

/** The database's own guard against overselling: whatever a caller writes, the CHECK refuses it. */
// A database of its own: it writes stock counters no order accounts for.
describe('commerce schema: stock can never be oversold', () => {
  const { ownerUrl, appUrl } = separateDatabase('commerce');
  let owner: DataSource;
  let app: DataSource;
  const tenantId = newId('ten');
  const productId = newId('prod');

  beforeAll(async () => {
    await migrateDatabase({ DATABASE_MIGRATION_URL: ownerUrl, DATABASE_STATEMENT_TIMEOUT_MS: 60_000 });
    owner = await openDataSource(1, ownerUrl);
    app = await openDataSource(1, appUrl);
    await owner.query(`INSERT INTO tenants (id, name) VALUES ($1, 'shop')`, [tenantId]);
    await app.query(
      `INSERT INTO products (id, tenant_id, sku, name, price, currency, stock_received)
       VALUES ($1, $2, 'SKU-1', 'Lamp', 2500, 'USD', 10)`,
      [productId, tenantId],
    );
  });
  afterAll(async () => {
    await app?.destroy();
    await owner?.destroy();
    await dropDatabase(ownerUrl);
  });

  const set = (assignments: string) =>
    app.query(`UPDATE products SET ${assignments} WHERE id = $1`, [productId]);

  it('refuses more reserved and sold than received, as the apps’ role and as the owner', async () => {
    await set('stock_reserved = 6, stock_sold = 4');
    await assert.rejects(set('stock_reserved = 7'), /products_no_oversell/);
    await assert.rejects(
      owner.query(`UPDATE products SET stock_sold = 5 WHERE id = $1`, [productId]),
      /products_no_oversell/,
    );
    await assert.rejects(set('stock_received = 9'), /products_no_oversell/);
    await assert.rejects(set('stock_reserved = -1'), /check/);
    const [row] = await app.query(
      `SELECT stock_received::int AS received, stock_reserved::int AS reserved, stock_sold::int AS sold
         FROM products WHERE id = $1`,
      [productId],
    );
    assert.deepEqual(row, { received: 10, reserved: 6, sold: 4 });
  });

  it('keeps one SKU per tenant and searches name, category and description, stemmed', async () => {
    await assert.rejects(
      app.query(
        `INSERT INTO products (id, tenant_id, sku, name, price, currency) VALUES ($1, $2, 'SKU-1', 'Other', 1, 'USD')`,
        [newId('prod'), tenantId],
      ),
      /duplicate key/,
    );
    await app.query(
      `UPDATE products SET category = 'Lighting', description = 'A reading lamp for desks' WHERE id = $1`,
      [productId],
    );
    const found = async (q: string) =>
      (
        await app.query(
          `SELECT count(*)::int AS n FROM products WHERE tenant_id = $1 AND search @@ websearch_to_tsquery('english', $2)`,
          [tenantId, q],
        )
      )[0].n;
    assert.equal(await found('desk lamps'), 1);
    assert.equal(await found('lighting read'), 1);
    assert.equal(await found('chair'), 0);
  });
});
