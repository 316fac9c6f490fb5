import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A ledger entry's account must belong to the entry's tenant: one composite foreign key
 * (account_id, tenant_id) → accounts (id, tenant_id) in place of the two it had (account, tenant).
 * The guarantee is stronger (before, an entry could name one tenant and another tenant's account)
 * and each entry is one check instead of two: a usage batch writes 1,000 entries under the
 * wallets' locks, and the tenant check alone took 5.8–7.8 ms of them (docs/performance.md). The
 * tenant itself exists through the account's own foreign key. A composite key with the tenant is
 * also the shape a database distributed by tenant (docs/scaling.md) requires.
 *
 * The new key is added NOT VALID and then validated, so existing entries are checked without
 * blocking writes to the table; the unique index on (id, tenant_id) is built on `accounts`, whose
 * updates stay heap-only (neither column ever changes).
 */
export class LedgerEntriesAccountOfTenant1763828400000 implements MigrationInterface {
  name = 'LedgerEntriesAccountOfTenant1763828400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE accounts ADD CONSTRAINT accounts_id_tenant_key UNIQUE (id, tenant_id)`);
    await q.query(`
      ALTER TABLE ledger_entries
        ADD CONSTRAINT ledger_entries_account_of_tenant_fkey FOREIGN KEY (account_id, tenant_id)
          REFERENCES accounts (id, tenant_id) NOT VALID`);
    await q.query(`ALTER TABLE ledger_entries VALIDATE CONSTRAINT ledger_entries_account_of_tenant_fkey`);
    await q.query(`
      ALTER TABLE ledger_entries
        DROP CONSTRAINT ledger_entries_account_id_fkey,
        DROP CONSTRAINT ledger_entries_tenant_id_fkey`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE ledger_entries
        ADD CONSTRAINT ledger_entries_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id),
        ADD CONSTRAINT ledger_entries_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
        DROP CONSTRAINT ledger_entries_account_of_tenant_fkey`);
    await q.query(`ALTER TABLE accounts DROP CONSTRAINT accounts_id_tenant_key`);
  }
}
