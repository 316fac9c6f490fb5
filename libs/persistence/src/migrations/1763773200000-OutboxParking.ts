import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbox rows that can never be published (an exchange outside the topology) are parked: left
 * unpublished, with the error, and no longer claimed, so they cannot hold up the rows behind them.
 * They still count in the backlog; an operator clears parked_at to have one sent again.
 */
export class OutboxParking1763773200000 implements MigrationInterface {
  name = 'OutboxParking1763773200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN parked_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox DROP COLUMN parked_at`);
  }
}
