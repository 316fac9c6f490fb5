/**
 * A withdrawal paid out through a payment provider. Tally's side of a payout:
 *
 *   queued ──2xx──▶ accepted ──paid──▶ succeeded
 *     │  ╲                  ╲─returned/failed──▶ failed
 *     │   ╲─4xx──────────────────────────────▶ failed
 *     └─timeout/5xx, retries exhausted──▶ unknown ──(outcome seen / operator)──▶ succeeded | failed
 *
 * While queued, accepted or unknown the money stays held on the account; an outcome is applied
 * once (the first path to see it wins), and final states are sticky.
 */
export const PAYOUT_STATUSES = ['queued', 'accepted', 'unknown', 'succeeded', 'failed'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

/** A payout as the provider reports it. */
export const PROVIDER_PAYOUT_STATUSES = ['pending', 'paid', 'returned', 'failed'] as const;
export type ProviderPayoutStatus = (typeof PROVIDER_PAYOUT_STATUSES)[number];

export function isPayoutFinal(status: PayoutStatus): boolean {
  return status === 'succeeded' || status === 'failed';
}

/** What the provider's status means for Tally's payout: an outcome, or none yet. */
export function outcomeOf(status: ProviderPayoutStatus): 'succeeded' | 'failed' | null {
  switch (status) {
    case 'paid':
      return 'succeeded';
    case 'returned':
    case 'failed':
      return 'failed';
    case 'pending':
      return null;
  }
}

/** The failure a withdrawal records when its payout does not go through. */
/**
 * A final payout the provider reports the other way: paid there but failed here, or the reverse.
 * Null when they agree or Tally has no final status yet. Reconciliation and the webhook path
 * both record it as a mismatch for an operator.
 */
export function contradictionOf(
  tallyStatus: PayoutStatus,
  providerOutcome: 'succeeded' | 'failed' | null,
): 'paid_but_failed' | 'failed_but_succeeded' | null {
  if (tallyStatus === 'failed' && providerOutcome === 'succeeded') return 'paid_but_failed';
  if (tallyStatus === 'succeeded' && providerOutcome === 'failed') return 'failed_but_succeeded';
  return null;
}

export const PAYOUT_FAILURES = {
  refused: 'payout_refused',
  returned: 'payout_returned',
  failed: 'payout_failed',
} as const;

/**
 * Exponential backoff with full-range jitter: base · 2^(attempt-1), capped, then a random
 * 50–100 % of it (retries of many payouts spread out instead of arriving together). Null once
 * `maxAttempts` attempts have been made: the outcome is then unknown, not failed.
 */
export function payoutRetryDelayMs(
  attempt: number,
  options: { baseMs: number; maxMs: number; maxAttempts: number },
  random: () => number = Math.random,
): number | null {
  if (attempt >= options.maxAttempts) return null;
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.5 + 0.5 * random()));
}
