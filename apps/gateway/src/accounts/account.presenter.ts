import type { AccountRecord, EntryRecord } from '#persistence';

/** The API's Account shape (docs/api.md). */
export function presentAccount(a: AccountRecord) {
  return {
    id: a.id,
    currency: a.currency,
    externalRef: a.externalRef,
    status: a.status,
    balance: { posted: a.posted, held: a.held, available: a.posted - a.held },
    lowBalanceThreshold: a.lowBalanceThreshold,
    metadata: a.metadata,
    createdAt: a.createdAt.toISOString(),
  };
}

export function presentEntry(e: EntryRecord) {
  return {
    id: e.id,
    transactionId: e.transactionId,
    amount: e.amount,
    balanceAfter: e.balanceAfter,
    createdAt: e.createdAt.toISOString(),
  };
}
