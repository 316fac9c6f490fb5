import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { MessageTypes, newId } from '#domain';
import { Exchanges } from '#messaging';
import { TransactionRepository, transactionView } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { AdminError, notFound } from '../http/admin-error.js';
import { Adjustments, type AdjustmentAnswer } from './adjustments.js';

export type RerunAnswer =
  | { kind: 'transaction'; transaction: ReturnType<typeof transactionView> }
  | { kind: 'adjustment'; adjustment: AdjustmentAnswer };

/**
 * Re-running a failed transaction: a new transaction with the same intent (the failed one stays
 * failed). Each transaction is re-run at most once: the claim is a row keyed by the failed
 * transaction, taken first, so of two operators asking at the same moment one gets 409.
 * A failed adjustment is re-run as a new adjustment request of the re-running operator: it needs
 * a second operator when the original did, or when the operator's rolling total says so.
 */
@Injectable()
export class Reruns {
  constructor(
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(Adjustments) private readonly adjustments: Adjustments,
    @Inject(AuditLog) private readonly audit: AuditLog,
  ) {}

  async rerun(manager: EntityManager, operator: Operator, id: string, why: string): Promise<RerunAnswer> {
    const [row]: { tenant_id: string }[] = await manager.query(
      `SELECT tenant_id FROM transactions WHERE id = $1`,
      [id],
    );
    if (!row) throw notFound(`Transaction ${id}`);
    const failed = (await this.transactions.find(manager, row.tenant_id, id))!;
    if (failed.status !== 'failed') {
      throw new AdminError(
        409,
        'transaction_not_failed',
        `Only a failed transaction can be re-run; this one is ${failed.status}.`,
      );
    }
    if (failed.type === 'capture') {
      throw new AdminError(409, 'not_rerunnable', 'A capture is re-run by capturing its hold again.');
    }
    // Waits for a concurrent claim of the same transaction to commit or roll back.
    const claimed: unknown[] = await manager.query(
      `INSERT INTO transaction_reruns (transaction_id, requested_by) VALUES ($1, $2)
       ON CONFLICT (transaction_id) DO NOTHING RETURNING transaction_id`,
      [id, operator.id],
    );
    if (claimed.length === 0) {
      throw new AdminError(
        409,
        'already_rerun',
        'This transaction has already been re-run (or its re-run awaits approval); it is re-run once.',
      );
    }

    if (failed.type === 'adjustment') {
      const [original]: { approval_required: boolean }[] = await manager.query(
        `SELECT approval_required FROM adjustment_requests WHERE transaction_id = $1`,
        [id],
      );
      const adjustment = await this.adjustments.request(manager, operator, {
        accountId: (failed.sourceAccountId ?? failed.destinationAccountId)!,
        direction: failed.sourceAccountId ? 'debit' : 'credit',
        amount: failed.amount,
        reason: why,
        rerunOf: id,
        approvalRequired: original?.approval_required ?? true,
      });
      await manager.query(
        `UPDATE transaction_reruns SET adjustment_request_id = $2, rerun_transaction_id = $3 WHERE transaction_id = $1`,
        [id, adjustment.id, adjustment.transactionId],
      );
      await this.recordRerun(manager, operator, id, why, {
        adjustmentId: adjustment.id,
        newTransactionId: adjustment.transactionId,
      });
      return { kind: 'adjustment', adjustment };
    }

    const newTransactionId = newId('txn');
    const rerun = await this.transactions.insert(
      manager,
      {
        ...failed,
        id: newTransactionId,
        status: 'pending',
        metadata: { ...failed.metadata, rerunOf: failed.id },
        correlationId: failed.correlationId,
      },
      [
        {
          exchange: Exchanges.commands,
          routingKey: MessageTypes.transactionRequested,
          payload: { transactionId: newTransactionId, tenantId: failed.tenantId },
          correlationId: failed.correlationId,
        },
      ],
    );
    await manager.query(`UPDATE transaction_reruns SET rerun_transaction_id = $2 WHERE transaction_id = $1`, [
      id,
      rerun.id,
    ]);
    await this.recordRerun(manager, operator, id, why, { newTransactionId: rerun.id });
    return { kind: 'transaction', transaction: transactionView(rerun) };
  }

  private recordRerun(
    manager: EntityManager,
    operator: Operator,
    id: string,
    why: string,
    details: Record<string, unknown>,
  ) {
    return this.audit.record(manager, {
      operatorId: operator.id,
      action: 'transaction.rerun',
      targetType: 'transaction',
      targetId: id,
      reason: why,
      details,
    });
  }
}
