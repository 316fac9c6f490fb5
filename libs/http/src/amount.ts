import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import { MAX_AMOUNT } from '#domain';

export interface AmountOptions {
  /** Smallest amount accepted: 1 (an amount to move) unless given (0 for a threshold). */
  min?: bigint;
  /** Also take the amount as a string of digits (forms in a browser send text). */
  digitStrings?: boolean;
}

const DIGITS = /^(0|[1-9]\d{0,18})$/;

/**
 * A JSON integer (a number, or a bigint from the exact parser) as bigint; anything else is left
 * as it came, for the amount rule to refuse: a fraction, a string, a boolean.
 */
export function toAmount(value: unknown, options: AmountOptions = {}): unknown {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (options.digitStrings && typeof value === 'string' && DIGITS.test(value)) return BigInt(value);
  return value;
}

/**
 * An amount in minor units: exact (bigint after the transform), never a float, within
 * [min, MAX_AMOUNT]. Strings only with `digitStrings`.
 */
export function IsAmount(options: AmountOptions = {}): PropertyDecorator {
  const min = options.min ?? 1n;
  const transform = Transform(({ value }) => toAmount(value, options));
  const rule = ValidateBy({
    name: 'isAmount',
    validator: {
      validate: (value: unknown) => typeof value === 'bigint' && value >= min && value <= MAX_AMOUNT,
      defaultMessage: () =>
        `must be an integer number of minor units between ${min} and ${MAX_AMOUNT}` +
        (options.digitStrings ? '' : ' (not a string or a fraction)'),
    },
  });
  return (target, key) => {
    transform(target, key);
    rule(target, key);
  };
}
