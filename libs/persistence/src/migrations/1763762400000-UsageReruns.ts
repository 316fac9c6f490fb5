import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A usage event re-run by an operator that fails again records its latest failure. */
export class UsageReruns1763762400000 implements MigrationInterface {
  name = 'UsageReruns1763762400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`GRANT UPDATE ON usage_failed TO tally_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE UPDATE ON usage_failed FROM tally_app`);
  }
}
