import { useCallback, useMemo } from 'react';
import { Choice, TextFilter } from '../components/filters';
import { ListPage } from '../components/ListPage';
import { Status } from '../components/Status';
import { Table } from '../components/Table';
import { TimeChart } from '../components/TimeChart';
import { useLoad } from '../load';
import { formatMoney, minorUnitsOf } from '../money';
import { useOpenRow } from '../router';
import { useWindow } from '../series';
import type { PageProps, Row } from '../types';

interface MeterSeries {
  meterId: string;
  eventType: string;
  currency: string;
  events: number[];
  quantity: string[];
  amount: string[];
  totalQuantity: string;
  totalAmount: string;
}

const USAGE_WINDOWS = ['24h', '7d', '30d'];

/**
 * Usage of a metered product: for a tenant (and optionally one account or meter), the quantity and
 * the amount charged per meter over time, then the usage events themselves, a page at a time.
 */
export function Usage({ query, go }: PageProps) {
  const { search, filter } = useOpenRow('/usage', query, go);
  const tenant = query.get('tenantId') ?? '';
  const account = query.get('accountId') ?? '';
  const meter = query.get('meterId') ?? '';
  const window = USAGE_WINDOWS.includes(query.get('window') ?? '') ? query.get('window')! : '7d';
  const range = useWindow(window, 60_000);
  const of = new URLSearchParams({ tenantId: tenant });
  if (account) of.set('accountId', account);
  if (meter) of.set('meterId', meter);
  const graphs = useLoad<{ times: number[]; meters: MeterSeries[] }>(
    tenant ? `/usage/series?${range}&${of}` : null,
  );
  const listQuery = new URLSearchParams(search);
  listQuery.delete('window');
  listQuery.delete('meterId');
  const list = useLoad<{ data: Row[]; nextBefore: string | null }>(`/usage-events?${listQuery}`);
  const meters = useMemo(() => graphs.data?.meters ?? [], [graphs.data]);
  const quantity = useMemo(
    () => meters.map((m) => ({ name: m.eventType, values: m.quantity.map(Number) })),
    [meters],
  );
  // Drawn in major units (a chart's scale); the legend writes each bucket's exact amount.
  const amount = useMemo(
    () =>
      meters.map((m) => ({
        name: `${m.eventType} (${m.currency})`,
        values: m.amount.map((a) => Number(a) / 10 ** minorUnitsOf(m.currency)),
      })),
    [meters],
  );
  const money = useCallback(
    (value: number, line: number, index: number) =>
      line < 0 || index < 0
        ? String(Math.round(value * 100) / 100)
        : formatMoney(meters[line].amount[index], meters[line].currency),
    [meters],
  );
  const present = (r: Row): Row => ({
    ...r,
    amount: r.amount === null ? null : formatMoney(r.amount, r.currency),
  });
  return (
    <ListPage
      title="Usage"
      filters={
        <>
          <TextFilter
            label="Tenant"
            placeholder="tenant id"
            value={tenant}
            onEnter={(v) => filter('tenantId', v.trim())}
          />
          <TextFilter
            label="Account"
            placeholder="account id"
            value={account}
            onEnter={(v) => filter('accountId', v.trim())}
          />
          <Choice
            label="Meter"
            value={meter}
            any="every meter"
            options={[...new Set([meter, ...meters.map((m) => m.meterId)].filter(Boolean))]}
            onChange={(v) => filter('meterId', v)}
          />
          <Choice
            label="Window"
            value={window}
            options={USAGE_WINDOWS}
            onChange={(v) => filter('window', v)}
          />
        </>
      }
      load={{ ...list, data: list.data && { ...list.data, data: list.data.data.map(present) } }}
      columns={[
        ['id', 'Event'],
        ...(tenant ? [] : ([['tenantId', 'Tenant']] as [string, string][])),
        ['type', 'Type'],
        ['accountId', 'Account'],
        ['status', 'Status'],
        ['billingStatus', 'Billing'],
        ['amount', 'Amount'],
        ['failureCode', 'Failure'],
        ['receivedAt', 'Received'],
      ]}
      paging={{ before: query.get('before'), onPage: (b) => filter('before', b) }}
      above={
        tenant ? (
          <>
            <div className="charts wide">
              <TimeChart
                title="Usage quantity"
                times={graphs.data?.times ?? []}
                lines={quantity}
                loading={graphs.loading}
                error={graphs.error}
                onRetry={graphs.reload}
              />
              <TimeChart
                title="Amount charged"
                times={graphs.data?.times ?? []}
                lines={amount}
                loading={graphs.loading}
                error={graphs.error}
                format={money}
                onRetry={graphs.reload}
              />
            </div>
            {meters.length > 0 && <h2>Meters</h2>}
            {meters.length > 0 && (
              <Table
                rows={meters.map((m) => ({
                  id: m.meterId,
                  meterId: m.meterId,
                  eventType: m.eventType,
                  events: m.events.reduce((n, e) => n + e, 0),
                  totalQuantity: m.totalQuantity,
                  totalAmount: formatMoney(m.totalAmount, m.currency),
                }))}
                columns={[
                  ['eventType', 'Meter'],
                  ['meterId', 'Id'],
                  ['events', 'Events'],
                  ['totalQuantity', 'Quantity'],
                  ['totalAmount', 'Charged'],
                ]}
                testId={(r) => `meter-${String(r.eventType)}`}
              />
            )}
            <h2>Events</h2>
          </>
        ) : (
          <Status loading={false} empty emptyText="Name a tenant to see its usage over time." />
        )
      }
    />
  );
}
