import { available } from '#domain';
import type { BalanceLowData } from '#messaging';
import type { AccountRecord } from '#persistence';

/**
 * `account.balance_low` once per crossing: the change took available from ≥ threshold (`before`)
 * to below it. `account` holds the balances after the change, whatever moved them (a capture
 * releases its hold as it posts, so its debit alone says nothing about available).
 */
export function lowBalance(account: AccountRecord, before: bigint): BalanceLowData | null {
  if (account.kind !== 'customer' || account.lowBalanceThreshold === null) return null;
  const after = available(account);
  if (before < account.lowBalanceThreshold || after >= account.lowBalanceThreshold) return null;
  return {
    accountId: account.id,
    currency: account.currency,
    available: after,
    threshold: account.lowBalanceThreshold,
  };
}
