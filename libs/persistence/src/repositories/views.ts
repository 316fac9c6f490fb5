import type { HoldRecord } from './hold.repository.js';
import type { TransactionRecord } from './transaction.repository.js';

/** A transaction as the public API and outcome events show it (docs/api.md, "Transaction"). */
export function transactionView(t: TransactionRecord) {
  return {
    id: t.id,
    type: t.type,
    status: t.status,
    amount: t.amount,
    currency: t.currency,
    sourceAccountId: t.sourceAccountId,
    destinationAccountId: t.destinationAccountId,
    parentTransactionId: t.parentTransactionId,
    description: t.description,
    metadata: t.metadata,
    failure: t.failureCode ? { code: t.failureCode, message: t.failureMessage ?? '' } : null,
    createdAt: t.createdAt.toISOString(),
    completedAt: t.completedAt?.toISOString() ?? null,
  };
}

/** A hold as the public API and hold events show it (docs/api.md, "Hold"). */
export function holdView(h: HoldRecord) {
  return {
    id: h.id,
    accountId: h.accountId,
    amount: h.amount,
    currency: h.currency,
    status: h.status,
    expiresAt: h.expiresAt.toISOString(),
    createdAt: h.createdAt.toISOString(),
  };
}
