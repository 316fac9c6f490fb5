/** Largest amount a single request may carry, in minor units. */
export const MAX_AMOUNT = 1_000_000_000_000_000n;

export const CURRENCY_PATTERN = /^[A-Z][A-Z0-9]{2,9}$/;

export function isCurrency(value: unknown): value is string {
  return typeof value === 'string' && CURRENCY_PATTERN.test(value);
}

export function isValidAmount(value: bigint): boolean {
  return value >= 1n && value <= MAX_AMOUNT;
}

/** The range of a balance (posted or held): what the ledger's 64-bit columns can store. */
export const BALANCE_MIN = -(2n ** 63n);
export const BALANCE_MAX = 2n ** 63n - 1n;
