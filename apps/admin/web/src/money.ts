/** The digits after the decimal point of a currency (JPY 0, USD 2, KWD 3); 0 when Intl does not know it. */
export function minorUnitsOf(currency: unknown, locale?: string): number {
  try {
    return (
      new Intl.NumberFormat(locale, { style: 'currency', currency: String(currency) }).resolvedOptions()
        .maximumFractionDigits ?? 2
    );
  } catch {
    return 0;
  }
}

/**
 * An amount in minor units as its currency writes it, in the browser's locale: 2500 USD → $25.00,
 * 2500 JPY → ¥2,500, 2500 KWD → KWD 2.500. Exact at any size (the digits are split as text and
 * given to Intl as a decimal string, never through a float). A currency Intl does not know
 * (CREDITS) shows its minor units and its code: 2500 CREDITS.
 */
export function formatMoney(minor: unknown, currency: unknown, locale?: string): string {
  const code = String(currency);
  let amount: bigint;
  try {
    amount = BigInt(String(minor));
  } catch {
    return `${String(minor)} ${code}`;
  }
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency: code });
  } catch {
    return `${amount} ${code}`;
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  const scale = 10n ** BigInt(digits);
  const size = amount < 0n ? -amount : amount;
  const fraction = digits > 0 ? `.${(size % scale).toString().padStart(digits, '0')}` : '';
  const decimal = `${amount < 0n ? '-' : ''}${size / scale}${fraction}` as Intl.StringNumericLiteral;
  return format.format(decimal);
}
