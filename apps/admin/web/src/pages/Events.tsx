import { Card } from '../components/Card';
import { Choice, TextFilter, TimeFilter } from '../components/filters';
import { ListPage } from '../components/ListPage';
import { Status } from '../components/Status';
import { Table } from '../components/Table';
import { useLoad } from '../load';
import { formatMoney } from '../money';
import { useOpenRow } from '../router';
import type { PageProps, Row } from '../types';

interface Counts {
  received: number;
  pending: number;
  processed: number;
  failed: number;
  failureReasons: { code: string; count: number }[];
}
interface Stats {
  from: string;
  to: string;
  groupBy: string;
  totals: Counts;
  data: (Counts & { key: string })[];
}

/** A bucket's key as written: an hour `2026-12-02T01:00:00Z` as `2026-12-02 01:00` (UTC, as counted). */
const bucketLabel = (key: string) => key.replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d):00Z$/, '$1 $2');

/** An event as a row: its billing in its currency's format, its failure by code. */
const shown = (e: Row): Row => {
  const billing = e.billing as { status: string; amount: string | null; currency: string | null } | null;
  const failure = e.failure as { code: string; message: string } | null;
  return {
    ...e,
    billing: billing?.status ?? null,
    amount: !billing || billing.amount === null ? null : formatMoney(billing.amount, billing.currency),
    failure: failure ? `${failure.code}: ${failure.message}` : null,
  };
};

/**
 * A tenant's usage events (what GET /v1/events lists, for operators): filtered by type, account,
 * status and time of receipt, a page at a time; and their counts by type, hour or day with the
 * failures by reason.
 */
export function Events({ query, go }: PageProps) {
  const { search, filter } = useOpenRow('/events', query, go);
  const tenant = query.get('tenantId') ?? '';
  const groupBy = query.get('groupBy') ?? 'type';
  const listQuery = new URLSearchParams(search);
  listQuery.delete('groupBy');
  const before = listQuery.get('before');
  listQuery.delete('before');
  if (before) listQuery.set('cursor', before);
  const list = useLoad<{ data: Row[]; nextCursor: string | null }>(tenant ? `/events?${listQuery}` : null);
  const statsQuery = new URLSearchParams({ tenantId: tenant, groupBy });
  for (const key of ['from', 'to']) if (query.get(key)) statsQuery.set(key, query.get(key)!);
  const stats = useLoad<Stats>(tenant ? `/events/stats?${statsQuery}` : null);
  const text = (key: string, label: string, placeholder: string) => (
    <TextFilter
      label={label}
      placeholder={placeholder}
      value={query.get(key) ?? ''}
      onEnter={(v) => filter(key, v.trim())}
    />
  );
  const t = stats.data?.totals;
  // The buckets as the answer counted them (the choice may be newer, its answer still loading).
  const counted = stats.data?.groupBy ?? groupBy;
  return (
    <ListPage
      title="Events"
      filters={
        <>
          {text('tenantId', 'Tenant', 'tenant id')}
          {text('type', 'Type', 'event type')}
          {text('accountId', 'Account', 'account id')}
          <Choice
            label="Status"
            value={query.get('status') ?? ''}
            any="any status"
            options={['pending', 'processed', 'failed']}
            onChange={(v) => filter('status', v)}
          />
          <TimeFilter label="From" value={query.get('from') ?? ''} onChange={(v) => filter('from', v)} />
          <TimeFilter label="To" value={query.get('to') ?? ''} onChange={(v) => filter('to', v)} />
        </>
      }
      above={
        tenant ? (
          <section aria-label="Event stats">
            <header className="row">
              <h2>Counts {query.get('from') || query.get('to') ? 'in the range' : 'in the last 24 hours'}</h2>
              <Choice
                label="Group by"
                value={groupBy}
                options={['type', 'hour', 'day']}
                onChange={(v) => filter('groupBy', v)}
              />
            </header>
            <Status loading={stats.loading && !stats.data} error={stats.error} onRetry={stats.reload} />
            {t && (
              <>
                <div className="cards">
                  <Card label="Received" value={t.received} />
                  <Card label="Pending" value={t.pending} />
                  <Card label="Processed" value={t.processed} />
                  <Card label="Failed" value={t.failed} />
                </div>
                <div className="split">
                  <div>
                    <h3>By {counted}</h3>
                    <Status
                      loading={false}
                      empty={stats.data!.data.length === 0}
                      emptyText="No events in this range."
                    />
                    {stats.data!.data.length > 0 && (
                      <Table
                        rows={stats.data!.data.map((b) => ({ ...b, id: b.key, key: bucketLabel(b.key) }))}
                        columns={[
                          [
                            'key',
                            counted === 'type' ? 'Type' : counted === 'hour' ? 'Hour (UTC)' : 'Day (UTC)',
                          ],
                          ['received', 'Received'],
                          ['pending', 'Pending'],
                          ['processed', 'Processed'],
                          ['failed', 'Failed'],
                        ]}
                      />
                    )}
                  </div>
                  <div>
                    <h3>Failure reasons</h3>
                    <Status
                      loading={false}
                      empty={t.failureReasons.length === 0}
                      emptyText="No failures in this range."
                    />
                    {t.failureReasons.length > 0 && (
                      <Table
                        rows={t.failureReasons.map((r) => ({ ...r, id: r.code }))}
                        columns={[
                          ['code', 'Reason'],
                          ['count', 'Events'],
                        ]}
                        testId={(r) => `reason-${String(r.code)}`}
                      />
                    )}
                  </div>
                </div>
              </>
            )}
            <h2>Events</h2>
          </section>
        ) : (
          <Status loading={false} empty emptyText="Name a tenant to see its events." />
        )
      }
      load={
        tenant
          ? { ...list, data: list.data && { ...list.data, data: list.data.data.map(shown) } }
          : { loading: false }
      }
      columns={[
        ['id', 'Event'],
        ['type', 'Type'],
        ['accountId', 'Account'],
        ['status', 'Status'],
        ['billing', 'Billing'],
        ['amount', 'Amount'],
        ['failure', 'Failure'],
        ['receivedAt', 'Received'],
      ]}
      paging={tenant ? { before, onPage: (b) => filter('before', b) } : undefined}
    />
  );
}
