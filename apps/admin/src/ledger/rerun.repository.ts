import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** transaction_reruns: the one re-run each failed transaction may have, claimed before it is made. */
@Injectable()
export class RerunRepository {
  /**
   * Claims the re-run of `transactionId`; false when it is claimed already. Waits for a concurrent
   * claim of the same transaction to commit or roll back.
   */
  async claim(manager: EntityManager, transactionId: string, operatorId: string): Promise<boolean> {
    const claimed: unknown[] = await manager.query(
      `INSERT INTO transaction_reruns (transaction_id, requested_by) VALUES ($1, $2)
       ON CONFLICT (transaction_id) DO NOTHING RETURNING transaction_id`,
      [transactionId, operatorId],
    );
    return claimed.length === 1;
  }

  async setRerun(
    manager: EntityManager,
    transactionId: string,
    rerun: { adjustmentId?: string; transactionId: string | null },
  ): Promise<void> {
    await manager.query(
      `UPDATE transaction_reruns SET adjustment_request_id = coalesce($2, adjustment_request_id), rerun_transaction_id = $3
        WHERE transaction_id = $1`,
      [transactionId, rerun.adjustmentId ?? null, rerun.transactionId],
    );
  }

  /** The adjustment re-running a transaction was executed as `transactionId`. */
  async setExecuted(manager: EntityManager, adjustmentId: string, transactionId: string): Promise<void> {
    await manager.query(
      `UPDATE transaction_reruns SET rerun_transaction_id = $2 WHERE adjustment_request_id = $1`,
      [adjustmentId, transactionId],
    );
  }

  /** Frees the transaction an adjustment would have re-run (it was rejected). */
  async release(manager: EntityManager, adjustmentId: string): Promise<void> {
    await manager.query(`DELETE FROM transaction_reruns WHERE adjustment_request_id = $1`, [adjustmentId]);
  }
}
