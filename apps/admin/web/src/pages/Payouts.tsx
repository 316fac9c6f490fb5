import { useState } from 'react';
import { api } from '../api';
import { ListPage } from '../components/ListPage';
import { Listing } from '../components/Table';
import { useLoad } from '../load';
import { formatMoney } from '../money';
import type { PageProps, Row } from '../types';

interface PendingApproval {
  requestedBy: string;
  requestedByEmail: string | null;
  outcome: 'succeeded' | 'failed' | null;
  reason: string;
}

/** A payout whose outcome Tally does not know yet: settling it needs one. */
const FINAL = ['succeeded', 'failed'];

/**
 * Payouts through the provider: each provider's circuit breaker (as the workers report it,
 * refreshed every few seconds), then what reconciliation found differs from the provider's report,
 * a page at a time, with Settle; a settlement above the threshold waits for a second operator, who
 * gets Approve (its requester may withdraw it).
 */
export function Payouts({ query, go }: PageProps) {
  const before = query.get('before');
  const breakers = useLoad<{ data: Row[] }>('/payout-breakers', 5000);
  const list = useLoad<{ data: Row[]; nextBefore: string | null }>(
    `/payout-mismatches${before ? `?before=${encodeURIComponent(before)}` : ''}`,
  );
  const me = useLoad<{ id: string }>('/me');
  const [message, setMessage] = useState<string>();

  const act = async (run: () => Promise<string | null>) => {
    try {
      const done = await run();
      if (done) setMessage(done);
    } catch (e) {
      setMessage((e as Error).message);
    }
    list.reload();
  };
  const settle = (row: Row) =>
    act(async () => {
      const id = String(row.transactionId);
      let outcome: string | undefined;
      if (!FINAL.includes(String(row.tallyStatus))) {
        outcome = window.prompt(`Was ${id} paid out? Answer succeeded or failed:`)?.trim();
        if (!outcome) return 'Cancelled.';
      }
      const reason = window.prompt(`Settle ${id}? Give a reason:`);
      if (!reason) return 'Cancelled.';
      const answer = await api<{ status: string; resolution: string | null }>(
        'POST',
        `/payout-mismatches/${id}/settle`,
        { reason, ...(outcome ? { outcome } : {}) },
      );
      return answer.status === 'pending_approval'
        ? `${id}: the settlement waits for a second operator's approval.`
        : `${id} settled (${answer.resolution}).`;
    });
  const approve = (row: Row) =>
    act(async () => {
      const id = String(row.transactionId);
      const pending = row.pendingApproval as PendingApproval;
      const asked = `${pending.outcome ?? 'acknowledged'}, asked by ${pending.requestedByEmail ?? pending.requestedBy}: ${pending.reason}`;
      if (!window.confirm(`Approve the settlement of ${id} (${asked})?`)) return 'Cancelled.';
      const answer = await api<{ resolution: string }>('POST', `/payout-mismatches/${id}/approve`);
      return `${id} settled (${answer.resolution}).`;
    });
  const reject = (row: Row, label: string) =>
    act(async () => {
      const id = String(row.transactionId);
      const reason = window.prompt(`${label} the settlement of ${id}? Give a reason:`);
      if (!reason) return 'Cancelled.';
      await api('POST', `/payout-mismatches/${id}/reject`, { reason });
      return `${id}: the settlement was ${label === 'Reject' ? 'rejected' : 'withdrawn'}.`;
    });

  const present = (r: Row): Row => {
    const pending = r.pendingApproval as PendingApproval | null;
    return {
      ...r,
      id: r.transactionId,
      amount: formatMoney(r.amount, r.currency),
      // Who asked, and why, are in the Approve dialog (the row stays narrow).
      approval: pending ? `awaiting approval: ${pending.outcome ?? 'acknowledged'}` : null,
    };
  };

  return (
    <ListPage
      title="Payouts"
      message={message}
      above={
        <section aria-label="Circuit breakers">
          <h2>Circuit breakers</h2>
          <Listing
            load={breakers}
            columns={[
              ['provider', 'Provider'],
              ['state', 'State'],
              ['since', 'Since'],
              ['consecutiveFailures', 'Failures in a row'],
              ['lastError', 'Last error'],
              ['lastFailureAt', 'Last failure'],
              ['retryAt', 'Trial call at'],
            ]}
            testId={(r) => `breaker-${r.provider}`}
          />
          <h2>Mismatches</h2>
        </section>
      }
      load={list.data ? { ...list, data: { ...list.data, data: list.data.data.map(present) } } : list}
      paging={{
        before,
        onPage: (b) => go(`/payouts${b ? `?before=${encodeURIComponent(b)}` : ''}`),
      }}
      columns={[
        ['transactionId', 'Withdrawal'],
        ['kind', 'Kind'],
        ['amount', 'Amount'],
        ['tallyStatus', 'Tally'],
        ['providerStatus', 'Provider'],
        ['foundAt', 'Found'],
        ['approval', 'Approval'],
      ]}
      testId={(r) => `mismatch-${r.transactionId}`}
      actions={(r) => {
        const pending = r.pendingApproval as PendingApproval | null;
        if (!pending)
          return (
            <button type="button" onClick={() => settle(r)}>
              Settle
            </button>
          );
        const mine = me.data?.id === pending.requestedBy;
        return mine ? (
          <button type="button" className="secondary" onClick={() => reject(r, 'Withdraw')}>
            Withdraw
          </button>
        ) : (
          <>
            <button type="button" onClick={() => approve(r)}>
              Approve
            </button>
            <button type="button" className="secondary" onClick={() => reject(r, 'Reject')}>
              Reject
            </button>
          </>
        );
      }}
    />
  );
}
