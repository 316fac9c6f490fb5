import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { MessageTypes, newId, type TransactionRequested } from '#domain';
import { Exchanges } from '#messaging';
import { TransactionRepository, type TransactionRecord } from '#persistence';

export interface AdjustmentRequest {
  id: string;
  tenant_id: string;
  account_id: string;
  direction: 'credit' | 'debit';
  amount: string;
  currency: string;
  reason: string;
  status: 'pending' | 'executed' | 'rejected';
  requested_by: string;
}

/**
 * Turns an approved adjustment into an `adjustment` transaction and its command, in the caller's
 * database transaction: the worker applies it under the same locks and rules as any other (a debit
 * the account cannot cover fails), never a direct balance edit.
 */
@Injectable()
export class Adjustments {
  constructor(@Inject(TransactionRepository) private readonly transactions: TransactionRepository) {}

  async execute(
    manager: EntityManager,
    request: AdjustmentRequest,
    decidedBy: string | null,
  ): Promise<TransactionRecord> {
    const id = newId('txn');
    const command: TransactionRequested = { transactionId: id, tenantId: request.tenant_id };
    const t = await this.transactions.insert(
      manager,
      {
        id,
        tenantId: request.tenant_id,
        type: 'adjustment',
        status: 'pending',
        amount: BigInt(request.amount),
        currency: request.currency,
        sourceAccountId: request.direction === 'debit' ? request.account_id : null,
        destinationAccountId: request.direction === 'credit' ? request.account_id : null,
        parentTransactionId: null,
        holdId: null,
        description: `Adjustment: ${request.reason}`.slice(0, 500),
        metadata: { adjustmentRequestId: request.id, requestedBy: request.requested_by },
        correlationId: null,
      },
      [{ exchange: Exchanges.commands, routingKey: MessageTypes.transactionRequested, payload: command }],
    );
    await manager.query(
      `UPDATE adjustment_requests SET status = 'executed', transaction_id = $2, decided_by = $3,
              decided_at = CASE WHEN $3::text IS NULL THEN NULL ELSE now() END
        WHERE id = $1`,
      [request.id, id, decidedBy],
    );
    return t;
  }
}
