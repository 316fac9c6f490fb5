import { BALANCE_MAX, BALANCE_MIN } from '../money.js';
import {
  AccountNotFoundError,
  AmountOverflowError,
  InsufficientFundsError,
  AccountFrozenError,
  CurrencyMismatchError,
  SameAccountError,
  RefundExceedsRemainingError,
  TransactionNotRefundableError,
} from './errors.js';

export const TRANSACTION_TYPES = [
  'deposit',
  'withdrawal',
  'transfer',
  'charge',
  'refund',
  'capture',
  'adjustment',
] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

/** Customer accounts belong to the tenant's users; system accounts are the other side of the world. */
export type AccountKind = 'customer' | 'external' | 'revenue';

export interface LedgerAccount {
  id: string;
  kind: AccountKind;
  currency: string;
  status: 'active' | 'frozen';
  posted: bigint;
  held: bigint;
}

export interface Posting {
  accountId: string;
  /** Signed: + into the account, − out of it. */
  amount: bigint;
  balanceAfter: bigint;
}

export function available(account: LedgerAccount): bigint {
  return account.posted - account.held;
}

/**
 * The accounts a transaction moves money between: `from` is debited, `to` credited.
 * Which accounts those are for each type is decided by the caller (it knows the system accounts).
 */
export interface Movement {
  from: LedgerAccount;
  to: LedgerAccount;
  amount: bigint;
  currency: string;
}

/**
 * Checks a movement against the ledger's rules and returns its balanced postings.
 * Throws the DomainError that makes the transaction fail. Pure: callers hold the row locks.
 */
export function post(movement: Movement): Posting[] {
  const { from, to, amount, currency } = movement;
  if (amount <= 0n) throw new RangeError('amount must be positive');
  if (from.id === to.id) throw new SameAccountError();
  for (const account of [from, to]) checkParticipant(account, currency);
  // Only customer accounts must stay covered; the external account mirrors money in and out of Tally.
  if (from.kind === 'customer' && available(from) < amount) {
    throw new InsufficientFundsError(from.id, available(from), amount);
  }
  // Either side may be a system account, whose balance only ever grows one way.
  checkBalanceChange(from.id, from.posted, -amount);
  checkBalanceChange(to.id, to.posted, amount);
  const postings: Posting[] = [
    { accountId: from.id, amount: -amount, balanceAfter: from.posted - amount },
    { accountId: to.id, amount, balanceAfter: to.posted + amount },
  ];
  assertBalanced(postings);
  return postings;
}

/**
 * An account may take part in a movement of `currency`: it is in that currency and not frozen.
 * The one statement of the rule: the gateway checks it before accepting (its batched accept
 * writes the same condition in SQL and explains a refusal with this), the worker again under the
 * account's lock.
 */
export function checkParticipant(
  account: { id: string; currency: string; status: string },
  currency: string,
): void {
  if (account.currency !== currency) throw new CurrencyMismatchError(account.currency, currency, account.id);
  if (account.status === 'frozen') throw new AccountFrozenError(account.id);
}

/** Why these accounts of the tenant cannot take part in a movement of `currency`, or null. */
export function participantsRefusal(
  ids: string[],
  found: Map<string, { id: string; currency: string; status: string }>,
  currency: string,
): Error | null {
  for (const id of ids) {
    const account = found.get(id);
    if (!account) return new AccountNotFoundError(id);
    try {
      checkParticipant(account, currency);
    } catch (refusal) {
      return refusal as Error;
    }
  }
  return null;
}

/**
 * Every balance change (a posting, a hold placed or released) goes through here: a balance that
 * would leave the 64-bit range fails as a business outcome (`amount_overflow`), before anything is
 * written, rather than being refused by the database and taking the rest of a batch with it.
 * Returns the new balance.
 */
export function checkBalanceChange(accountId: string, balance: bigint, change: bigint): bigint {
  const after = balance + change;
  if (after > BALANCE_MAX || after < BALANCE_MIN) throw new AmountOverflowError(accountId, balance, change);
  return after;
}

export function assertBalanced(postings: Posting[]): void {
  const sum = postings.reduce((s, p) => s + p.amount, 0n);
  if (sum !== 0n) throw new Error(`unbalanced postings: sum ${sum}`);
}

/** What can still be refunded of a parent transaction, and the checks a refund must pass. */
export function checkRefund(
  parent: { type: TransactionType; status: string; amount: bigint; refundedAmount: bigint },
  requested: bigint | null,
): bigint {
  if (parent.type !== 'charge' && parent.type !== 'transfer' && parent.type !== 'capture') {
    throw new TransactionNotRefundableError(
      `Only charges, captures and transfers can be refunded, not a ${parent.type}.`,
    );
  }
  if (parent.status !== 'succeeded') {
    throw new TransactionNotRefundableError(
      `Only succeeded transactions can be refunded; this one is ${parent.status}.`,
    );
  }
  const remaining = parent.amount - parent.refundedAmount;
  const amount = requested ?? remaining;
  if (remaining <= 0n) throw new TransactionNotRefundableError('This transaction has been refunded in full.');
  if (amount > remaining) throw new RefundExceedsRemainingError(remaining, amount);
  return amount;
}

/** Accounts are locked in one global order (by id) so that two transactions never deadlock. */
export function lockOrder(ids: string[]): string[] {
  return [...new Set(ids)].sort();
}
