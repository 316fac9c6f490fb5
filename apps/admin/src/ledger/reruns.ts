import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { newId, transactionView } from '#domain';
import { Ledger } from '#ledger';
import { OutboxSignal, TransactionRepository } from '#persistence';
import { AuditLog } from '../audit/audit-log.js';
import type { Operator } from '../auth/auth.service.js';
import { conflict, notFound } from '../http/errors.js';
import { AdjustmentRepository } from './adjustment.repository.js';
import { Adjustments, type AdjustmentAnswer } from './adjustments.js';
import { RerunRepository } from './rerun.repository.js';
import { TransactionSearchRepository } from './transaction-search.repository.js';

export type RerunAnswer =
  | { kind: 'transaction'; transaction: ReturnType<typeof transactionView> }
  | { kind: 'adjustment'; adjustment: AdjustmentAnswer };

/**
 * Re-running a failed transaction: a new transaction with the same intent (the failed one stays
 * failed). Each transaction is re-run at most once: the claim is a row keyed by the failed
 * transaction, taken first, so of two operators asking at the same moment one gets 409.
 * A failed adjustment is re-run as a new adjustment request of the re-running operator: it needs
 * a second operator when the original did, or when the operator's rolling total says so. This is
 * the one place a re-run transaction is made.
 */
@Injectable()
export class Reruns {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(Ledger) private readonly ledger: Ledger,
    @Inject(TransactionSearchRepository) private readonly search: TransactionSearchRepository,
    @Inject(RerunRepository) private readonly claims: RerunRepository,
    @Inject(AdjustmentRepository) private readonly adjustmentRequests: AdjustmentRepository,
    @Inject(Adjustments) private readonly adjustments: Adjustments,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
  ) {}

  async rerun(operator: Operator, id: string, why: string): Promise<RerunAnswer> {
    const answer = await this.dataSource.transaction((m) => this.rerunIn(m, operator, id, why));
    if (answer.kind === 'transaction' || answer.adjustment.transactionId) this.outboxSignal.committed();
    return answer;
  }

  private async rerunIn(
    manager: EntityManager,
    operator: Operator,
    id: string,
    why: string,
  ): Promise<RerunAnswer> {
    const tenantId = await this.search.tenantOf(manager, id);
    if (!tenantId) throw notFound(`Transaction ${id}`);
    const failed = (await this.transactions.find(manager, tenantId, id))!;
    if (failed.status !== 'failed') {
      throw conflict(
        'transaction_not_failed',
        `Only a failed transaction can be re-run; this one is ${failed.status}.`,
      );
    }
    if (failed.type === 'capture') {
      throw conflict('not_rerunnable', 'A capture is re-run by capturing its hold again.');
    }
    if (!(await this.claims.claim(manager, id, operator.id))) {
      throw conflict(
        'already_rerun',
        'This transaction has already been re-run (or its re-run awaits approval); it is re-run once.',
      );
    }

    if (failed.type === 'adjustment') {
      const approvalRequired = await this.adjustmentRequests.approvalRequiredFor(manager, id);
      const adjustment = await this.adjustments.requestIn(manager, operator, {
        accountId: (failed.sourceAccountId ?? failed.destinationAccountId)!,
        direction: failed.sourceAccountId ? 'debit' : 'credit',
        amount: failed.amount,
        reason: why,
        rerunOf: id,
        approvalRequired: approvalRequired ?? true,
      });
      await this.claims.setRerun(manager, id, {
        adjustmentId: adjustment.id,
        transactionId: adjustment.transactionId,
      });
      await this.recordRerun(manager, operator, id, why, {
        adjustmentId: adjustment.id,
        newTransactionId: adjustment.transactionId,
      });
      return { kind: 'adjustment', adjustment };
    }

    const rerun = await this.ledger.request(manager, {
      ...failed,
      id: newId('txn'),
      status: 'pending',
      metadata: { ...failed.metadata, rerunOf: failed.id },
      correlationId: failed.correlationId,
    });
    await this.claims.setRerun(manager, id, { transactionId: rerun.id });
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
