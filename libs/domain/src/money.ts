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

const ISO_CODE = /^[A-Z]{3}$/;
const exponents = new Map<string, number>();

/** The minor unit's decimals of an ISO 4217 code by Intl's data; 0 for a custom unit it refuses. */
function isoExponent(currency: string): number {
  if (!ISO_CODE.test(currency)) return 0;
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits!;
  } catch {
    return 0;
  }
}

/**
 * How many decimal places a currency's minor unit has: 2 for USD, 0 for JPY, 3 for BHD (ISO 4217,
 * as the runtime's Intl data knows it). A custom unit (`CREDITS`) has none: its amounts are whole.
 */
export function currencyExponent(currency: string): number {
  let exponent = exponents.get(currency);
  if (exponent === undefined) exponents.set(currency, (exponent = isoExponent(currency)));
  return exponent;
}

/**
 * An amount in minor units as people read it, with the currency's code: `USD 1,234.56`,
 * `JPY 1,235`, `CREDITS 1,200`. Exact for any bigint (the decimal is built from digits, never
 * through a float); plain spaces only, so it prints in any font.
 */
export function formatMoney(amount: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${currency} ${grouped}${exponent > 0 ? `.${fraction}` : ''}`;
}
