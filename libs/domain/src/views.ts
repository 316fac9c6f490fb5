import type { HoldStatus } from './holds/holds.js';
import type { TransactionType } from './ledger/ledger-rules.js';
import type { TransactionStatus } from './ledger/transaction-state.js';

// The public shapes of a transaction and a hold: what the API answers and what the outcome events
// carry as `data` (docs/api.md, "Transaction" and "Hold"). One definition, so the two never drift.

/** What a transaction view is made of (a stored transaction has at least this). */
export interface TransactionFacts {
  id: string;
  type: TransactionType;
  status: TransactionStatus;
  amount: bigint;
  currency: string;
  sourceAccountId: string | null;
  destinationAccountId: string | null;
  parentTransactionId: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

/** What a hold view is made of (a stored hold has at least this). */
export interface HoldFacts {
  id: string;
  accountId: string;
  amount: bigint;
  currency: string;
  status: HoldStatus;
  expiresAt: Date;
  createdAt: Date;
}

/** A transaction as the public API and outcome events show it. */
export function transactionView(t: TransactionFacts) {
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

/** A hold as the public API and hold events show it. */
export function holdView(h: HoldFacts) {
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
