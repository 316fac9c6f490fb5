import type { EntityManager } from 'typeorm';
import { isPayoutFinal } from '#domain';
import type { Ledger } from '#ledger';
import type { PayoutRepository } from '#persistence';

export type PayoutOutcome =
  | { outcome: 'succeeded'; providerPayoutId: string | null }
  | { outcome: 'failed'; providerPayoutId: string | null; failure: { code: string; message: string } };

/** The state a caller's decision was made in: the payout still queued, at this attempt. */
export interface PayoutExpectation {
  status: 'queued';
  attempts: number;
}

/**
 * Applies a payout's outcome inside the caller's transaction, exactly once whoever calls: under
 * the payout's row lock, only a payout not yet final is settled — the ledger spends its hold
 * (succeeded: entries posted) or releases it (failed), the withdrawal gets its final status and
 * event, the payout its final status. False when it was final already (nothing done), or when it
 * moved from what `expected` says (an attempt whose lease another attempt took over).
 */
export async function settlePayoutIn(
  manager: EntityManager,
  ledger: Ledger,
  payouts: PayoutRepository,
  transactionId: string,
  outcome: PayoutOutcome,
  expected?: PayoutExpectation,
): Promise<boolean> {
  const payout = await payouts.lock(manager, transactionId);
  if (!payout || isPayoutFinal(payout.status)) return false;
  if (expected && (payout.status !== expected.status || payout.attempts !== expected.attempts)) return false;
  await ledger.apply(manager, {
    kind: 'settle',
    payouts: [
      outcome.outcome === 'succeeded'
        ? { transactionId, outcome: 'succeeded' }
        : { transactionId, outcome: 'failed', failure: outcome.failure },
    ],
  });
  await payouts.finish(
    manager,
    transactionId,
    outcome.outcome,
    outcome.providerPayoutId,
    outcome.outcome === 'failed' ? outcome.failure.message : null,
  );
  return true;
}
