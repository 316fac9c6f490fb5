import type { DataSource } from 'typeorm';
import { contradictionOf, outcomeOf } from '#domain';
import type { PayoutMismatch, PayoutRecord, PayoutRepository } from '#persistence';
import type { PayoutProvider, ProviderPayout } from './payout-provider.js';

/** A payout whose outcome Tally does not have yet and the provider's report gives. */
export interface ResolvableOutcome {
  transactionId: string;
  outcome: 'succeeded' | 'failed';
  providerStatus: string;
  providerPayoutId: string;
}

export interface Reconciliation {
  /** Tally's payouts compared. */
  compared: number;
  mismatches: PayoutMismatch[];
  resolvable: ResolvableOutcome[];
}

/**
 * Tally's payouts against the provider's report (matched by reference = transaction id):
 * paid there but failed here, failed there but succeeded here, sent but unknown to the provider,
 * more than one payout there for one withdrawal (paid twice), or an amount or currency that is
 * not the withdrawal's are mismatches for an operator; an outcome Tally is still waiting for
 * (accepted, unknown) that the report gives is resolvable. A refused payout (never the
 * provider's) and a queued one (not sent yet) are not compared.
 */
export function comparePayouts(
  tally: PayoutRecord[],
  report: ProviderPayout[],
): Omit<Reconciliation, 'compared'> {
  const byReference = new Map<string, ProviderPayout[]>();
  for (const p of report) {
    if (!p.reference) continue;
    const same = byReference.get(p.reference) ?? [];
    // The same payout reported twice (a page boundary, a re-sent report) is one payout.
    if (!same.some((q) => q.id === p.id)) same.push(p);
    byReference.set(p.reference, same);
  }
  const mismatches: PayoutMismatch[] = [];
  const resolvable: ResolvableOutcome[] = [];
  const mismatch = (t: PayoutRecord, kind: PayoutMismatch['kind'], p: ProviderPayout | undefined) =>
    mismatches.push({
      transactionId: t.transactionId,
      tenantId: t.tenantId,
      kind,
      tallyStatus: t.status,
      providerStatus: p?.status ?? null,
      providerPayoutId: p?.id ?? t.providerPayoutId,
    });
  for (const t of tally) {
    if (t.status === 'queued') continue;
    const found = byReference.get(t.transactionId) ?? [];
    if (found.length === 0) {
      if (t.status === 'failed' && t.providerPayoutId === null) continue; // refused
      mismatch(t, 'unknown_to_provider', undefined);
      continue;
    }
    // Two payouts there for one withdrawal: whatever Tally recorded, money may have left twice.
    const live = found.filter((p) => outcomeOf(p.status) !== 'failed');
    if (live.length > 1) {
      mismatch(t, 'paid_twice', live.find((p) => p.id !== t.providerPayoutId) ?? live[1]);
      continue;
    }
    const p = live[0] ?? found[0]!;
    if (p.amount !== t.amount.toString() || p.currency !== t.currency) {
      mismatch(t, 'amount_differs', p);
      continue;
    }
    const outcome = outcomeOf(p.status);
    const contradiction = contradictionOf(t.status, outcome);
    if (contradiction) mismatch(t, contradiction, p);
    else if ((t.status === 'accepted' || t.status === 'unknown') && outcome)
      resolvable.push({
        transactionId: t.transactionId,
        outcome,
        providerStatus: p.status,
        providerPayoutId: p.id,
      });
  }
  return { mismatches, resolvable };
}

/**
 * One reconciliation run over the payouts created since `since`: the provider's
 * `GET /payouts?since=` report compared with them, the mismatches recorded (payout_mismatches;
 * an operator resolves each). What to do with the resolvable outcomes is the caller's.
 */
export async function reconcilePayouts(
  dataSource: DataSource,
  payouts: PayoutRepository,
  provider: PayoutProvider,
  since: Date,
): Promise<Reconciliation> {
  const tally = await payouts.listSentSince(dataSource, since);
  const report = await provider.report(since);
  const { mismatches, resolvable } = comparePayouts(tally, report);
  await payouts.recordMismatches(dataSource, mismatches);
  return { compared: tally.length, mismatches, resolvable };
}
