import { DomainError } from '../errors.js';
import {
  AccountFrozenError,
  CurrencyMismatchError,
  InsufficientFundsError,
  available,
  checkBalanceChange,
  type LedgerAccount,
} from '../ledger/index.js';

export const HOLD_STATUSES = ['active', 'captured', 'voided', 'expired'] as const;
export type HoldStatus = (typeof HOLD_STATUSES)[number];

/** `expiresInSeconds` bounds and default (docs/api.md, Holds). */
export const HOLD_EXPIRY_SECONDS = { min: 60, max: 2_592_000, default: 604_800 } as const;

export interface HoldState {
  id: string;
  status: HoldStatus;
  amount: bigint;
  expiresAt: Date;
  /** Set while a capture is on its way through the worker: the hold is spoken for. */
  captureTransactionId: string | null;
}

export class HoldNotFoundError extends DomainError {
  readonly code = 'hold_not_found';
  constructor(readonly holdId: string) {
    super(`Hold ${holdId} does not exist.`);
  }
}

export class HoldNotActiveError extends DomainError {
  readonly code = 'hold_not_active';
  constructor(hold: HoldState, now: Date) {
    super(`Hold ${hold.id} is ${describe(hold, now)}; only an active hold can be captured or voided.`);
  }
}

export class CaptureExceedsHoldError extends DomainError {
  readonly code = 'capture_exceeds_hold';
  constructor(held: bigint, amount: bigint) {
    super(`The hold is for ${held}; ${amount} cannot be captured.`);
  }
}

function describe(hold: HoldState, now: Date): string {
  if (hold.status !== 'active') return hold.status;
  if (hold.captureTransactionId) return 'being captured';
  return hold.expiresAt <= now ? 'expired' : 'active';
}

/** Whether the hold can still be captured or voided at `now`: active, not spoken for, not past expiry. */
export function isLive(hold: HoldState, now: Date): boolean {
  return hold.status === 'active' && hold.captureTransactionId === null && hold.expiresAt > now;
}

/**
 * Checks that `amount` may be held on the (locked) account and returns its new held balance.
 * A hold only ever takes available funds.
 */
export function authorizeHold(account: LedgerAccount, amount: bigint, currency: string): bigint {
  if (amount <= 0n) throw new RangeError('amount must be positive');
  if (account.currency !== currency) throw new CurrencyMismatchError(account.currency, currency, account.id);
  if (account.status === 'frozen') throw new AccountFrozenError(account.id);
  if (available(account) < amount) throw new InsufficientFundsError(account.id, available(account), amount);
  return checkBalanceChange(account.id, account.held, amount);
}

/** The amount a capture takes: all of the hold by default, never more. */
export function captureAmount(hold: HoldState, requested: bigint | null, now: Date): bigint {
  if (!isLive(hold, now)) throw new HoldNotActiveError(hold, now);
  const amount = requested ?? hold.amount;
  if (amount > hold.amount) throw new CaptureExceedsHoldError(hold.amount, amount);
  return amount;
}

export function assertVoidable(hold: HoldState, now: Date): void {
  if (!isLive(hold, now)) throw new HoldNotActiveError(hold, now);
}

/** The account's held balance once `hold` stops holding. */
export function releaseHold(account: LedgerAccount, hold: { amount: bigint }): bigint {
  const held = checkBalanceChange(account.id, account.held, -hold.amount);
  if (held < 0n) throw new Error(`account ${account.id} would hold ${held}`);
  return held;
}
