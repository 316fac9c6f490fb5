import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { openDataSource } from '#test-support';
import { IdempotencyRetention } from '../../../apps/gateway/src/idempotency/idempotency-retention.js';

describe('idempotency keys are kept at least 24 hours', () => {
  let db: DataSource;
  beforeAll(async () => {
    db = await openDataSource(2);
    await db.query(`INSERT INTO tenants (id, name) VALUES ('ten_retention', 'r') ON CONFLICT DO NOTHING`);
    await db.query(
      `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, response_body, created_at) VALUES
         ('ten_retention', 'day-old', 'f', 202, '{}', now() - interval '23 hours 50 minutes'),
         ('ten_retention', 'expired', 'f', 202, '{}', now() - interval '24 hours 10 minutes')`,
    );
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('the sweep forgets keys past the retention period, and only those', async () => {
    const deleted = await new IdempotencyRetention(db, 24).sweep();
    assert.equal(deleted, 1);
    const rows: { key: string }[] = await db.query(
      `SELECT key FROM idempotency_keys WHERE tenant_id = 'ten_retention'`,
    );
    assert.deepEqual(
      rows.map((r) => r.key),
      ['day-old'],
    );
  });
});
