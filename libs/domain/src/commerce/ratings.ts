import { DomainError } from '../errors.js';

/** Field limits of a rating (docs/api.md, Commerce: ratings and discovery). */
export const RATING_LIMITS = { min: 1, max: 5, comment: { max: 2_000 } } as const;

/**
 * A product's ratings as the two numbers kept in step with them: how many accounts rated it and
 * the sum of their ratings. The average is derived, never stored, so it cannot drift.
 */
export interface RatingTally {
  count: bigint;
  total: bigint;
}

/**
 * The tally after one account rates (`previous` null) or re-rates (`previous` its earlier rating)
 * a product: one rating per account and product, the latest counting.
 */
export function tallyRating(tally: RatingTally, rating: number, previous: number | null): RatingTally {
  return previous === null
    ? { count: tally.count + 1n, total: tally.total + BigInt(rating) }
    : { count: tally.count, total: tally.total - BigInt(previous) + BigInt(rating) };
}

/**
 * As the API shows it: the average to two decimals (half up, in integers: no float rounding of
 * 4.125 to 4.12), or null while unrated.
 */
export function ratingView(tally: RatingTally): { average: number | null; count: bigint } {
  if (tally.count === 0n) return { average: null, count: 0n };
  const hundredths = (tally.total * 200n + tally.count) / (2n * tally.count);
  return { average: Number(hundredths) / 100, count: tally.count };
}

/** Only an account with a completed order for the product may rate it. */
export class NotPurchasedError extends DomainError {
  readonly code = 'not_purchased';
  constructor(
    readonly accountId: string,
    readonly productId: string,
  ) {
    super(`Account ${accountId} has no completed order for product ${productId}; only buyers may rate it.`);
  }
}
