import type { AccountRecord } from '#persistence';

/** `account.balance_low` once per crossing: the debit takes available from ≥ threshold to below it. */
export function lowBalance(account: AccountRecord, before: bigint, debit: bigint) {
  if (account.kind !== 'customer' || account.lowBalanceThreshold === null) return null;
  const after = before - debit;
  if (before < account.lowBalanceThreshold || after >= account.lowBalanceThreshold) return null;
  return {
    accountId: account.id,
    currency: account.currency,
    available: after,
    threshold: account.lowBalanceThreshold,
  };
}
