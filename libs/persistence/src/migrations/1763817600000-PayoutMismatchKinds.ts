import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliation also finds a withdrawal the provider paid more than once (`paid_twice`) and a
 * payout whose amount or currency is not the withdrawal's (`amount_differs`).
 */
export class PayoutMismatchKinds1763817600000 implements MigrationInterface {
  name = 'PayoutMismatchKinds1763817600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE payout_mismatches DROP CONSTRAINT payout_mismatches_kind_check`);
    await q.query(`
      ALTER TABLE payout_mismatches ADD CONSTRAINT payout_mismatches_kind_check
        CHECK (kind IN ('paid_but_failed', 'failed_but_succeeded', 'unknown_to_provider',
                        'paid_twice', 'amount_differs'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM payout_mismatches WHERE kind IN ('paid_twice', 'amount_differs')`);
    await q.query(`ALTER TABLE payout_mismatches DROP CONSTRAINT payout_mismatches_kind_check`);
    await q.query(`
      ALTER TABLE payout_mismatches ADD CONSTRAINT payout_mismatches_kind_check
        CHECK (kind IN ('paid_but_failed', 'failed_but_succeeded', 'unknown_to_provider'))`);
  }
}
