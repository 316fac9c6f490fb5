import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Operators' balance adjustments: an `adjustment` transaction type, and requests awaiting a second approval. */
export class Adjustments1763755200000 implements MigrationInterface {
  name = 'Adjustments1763755200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE transactions DROP CONSTRAINT transactions_type_check`);
    await q.query(`
      ALTER TABLE transactions ADD CONSTRAINT transactions_type_check
        CHECK (type IN ('deposit', 'withdrawal', 'transfer', 'charge', 'refund', 'capture', 'adjustment'))`);
    await q.query(`
      CREATE TABLE adjustment_requests (
        id             text PRIMARY KEY,
        tenant_id      text NOT NULL REFERENCES tenants (id),
        account_id     text NOT NULL REFERENCES accounts (id),
        direction      text NOT NULL CHECK (direction IN ('credit', 'debit')),
        amount         bigint NOT NULL CHECK (amount > 0),
        currency       text NOT NULL,
        reason         text NOT NULL,
        status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'executed', 'rejected')),
        requested_by   text NOT NULL REFERENCES operators (id),
        decided_by     text REFERENCES operators (id),
        transaction_id text REFERENCES transactions (id),
        created_at     timestamptz NOT NULL DEFAULT now(),
        decided_at     timestamptz,
        CHECK (decided_by IS NULL OR decided_by <> requested_by)
      )`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON adjustment_requests TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE adjustment_requests`);
    await q.query(`ALTER TABLE transactions DROP CONSTRAINT transactions_type_check`);
    await q.query(`
      ALTER TABLE transactions ADD CONSTRAINT transactions_type_check
        CHECK (type IN ('deposit', 'withdrawal', 'transfer', 'charge', 'refund', 'capture'))`);
  }
}
