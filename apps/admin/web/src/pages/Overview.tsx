import { useCallback, useMemo } from 'react';
import { Card } from '../components/Card';
import { Choice, TextFilter } from '../components/filters';
import { Status } from '../components/Status';
import { Table } from '../components/Table';
import { TimeChart } from '../components/TimeChart';
import { useLoad } from '../load';
import { useSeries, useWindow, WINDOWS } from '../series';
import type { PageProps } from '../types';

interface Metrics {
  window: string;
  transactions: {
    type: string;
    total: number;
    failed: number;
    perSecond: number;
    successRate: number | null;
    latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  }[];
  outbox: {
    backlog: number;
    oldestUnpublishedSeconds: number | null;
    publishLagMs: { p50: number | null; p99: number | null };
  };
  webhooks: { successRate: number | null };
  deadLetters: { pending: number };
  queues: { queue: string; messages: number | null; consumers: number | null }[];
  services: { name: string; up: boolean }[];
}

const CARD_WINDOWS = new Set(['15m', '1h', '6h', '24h']);
const ms = (v: number) => (v >= 1000 ? `${Math.round(v / 100) / 10} s` : `${Math.round(v * 10) / 10} ms`);
const count = (v: number) => String(Math.round(v * 100) / 100);

/** The overview: health and totals now, then throughput, latency, queues and the outbox over time. */
export function Overview({ query, go }: PageProps) {
  const window = WINDOWS[query.get('window') ?? ''] ? query.get('window')! : '1h';
  const tenant = query.get('tenantId') ?? '';
  const only = tenant ? `&tenantId=${encodeURIComponent(tenant)}` : '';
  const m = useLoad<Metrics>(`/metrics?window=${CARD_WINDOWS.has(window) ? window : '24h'}${only}`, 10_000);
  const range = useWindow(window);
  const throughput = useSeries('throughput', range, only);
  const latency = useSeries('latency', range, only);
  const queues = useSeries('queues', range);
  const outbox = useSeries('outbox', range);
  const step = throughput.data?.step ?? 1;
  const perSecond = useCallback((v: number) => `${count(v)}/s`, []);
  const d = m.data;
  const rates = useMemo(
    () =>
      (throughput.data?.series ?? []).map((s) => ({
        name: s.name,
        values: s.values.map((v) => (v === null ? null : v / step)),
      })),
    [throughput.data, step],
  );
  const lag = useMemo(() => outbox.data?.series.filter((s) => s.name.startsWith('lag')) ?? [], [outbox.data]);
  const backlog = useMemo(() => outbox.data?.series.filter((s) => s.name === 'backlog') ?? [], [outbox.data]);
  return (
    <section>
      <header className="row">
        <h1>Overview</h1>
        <label>
          Window{' '}
          <Choice
            label="Window"
            value={window}
            options={Object.keys(WINDOWS)}
            onChange={(v) => go(`/overview?window=${v}&tenantId=${encodeURIComponent(tenant)}`)}
          />
        </label>
        <TextFilter
          label="Tenant"
          placeholder="all tenants"
          value={tenant}
          onEnter={(v) => go(`/overview?window=${window}&tenantId=${encodeURIComponent(v.trim())}`)}
        />
      </header>
      <Status loading={m.loading && !d} error={m.error} onRetry={m.reload} />
      {d && (
        <>
          <ul className="services" aria-label="Service health">
            {d.services.map((svc) => (
              <li key={svc.name} className={svc.up ? 'up' : 'down'}>
                {svc.name}: {svc.up ? 'up' : 'down'}
              </li>
            ))}
          </ul>
          <div className="cards">
            <Card label="Transactions" value={d.transactions.reduce((s, t) => s + t.total, 0)} />
            <Card label="Failed" value={d.transactions.reduce((s, t) => s + t.failed, 0)} />
            <Card label="Outbox backlog" value={d.outbox.backlog} />
            <Card
              label="Publish lag p99"
              value={d.outbox.publishLagMs.p99 === null ? '—' : ms(d.outbox.publishLagMs.p99)}
            />
            <Card label="Dead letters" value={d.deadLetters.pending} onClick={() => go('/dead-letters')} />
            <Card
              label="Webhook success"
              value={d.webhooks.successRate === null ? '—' : `${Math.round(d.webhooks.successRate * 100)}%`}
            />
          </div>
        </>
      )}
      <div className="charts wide">
        <TimeChart
          title="Throughput"
          times={throughput.data?.times ?? []}
          lines={rates}
          loading={throughput.loading}
          error={throughput.error}
          format={perSecond}
          onRetry={throughput.reload}
        />
        <TimeChart
          title="Latency percentiles"
          times={latency.data?.times ?? []}
          lines={latency.data?.series ?? []}
          loading={latency.loading}
          error={latency.error}
          format={ms}
          onRetry={latency.reload}
        />
        <TimeChart
          title="Queue depths"
          times={queues.data?.times ?? []}
          lines={queues.data?.series ?? []}
          loading={queues.loading}
          error={queues.error}
          format={count}
          onRetry={queues.reload}
        />
        <TimeChart
          title="Outbox publish lag"
          times={outbox.data?.times ?? []}
          lines={lag}
          loading={outbox.loading}
          error={outbox.error}
          format={ms}
          onRetry={outbox.reload}
        />
        <TimeChart
          title="Outbox backlog"
          times={outbox.data?.times ?? []}
          lines={backlog}
          loading={outbox.loading}
          error={outbox.error}
          format={count}
          onRetry={outbox.reload}
        />
      </div>
      {d && (
        <>
          <h2>Latency percentiles by type ({d.window})</h2>
          <Table
            rows={d.transactions.map((t) => ({
              ...t,
              p50: t.latencyMs.p50,
              p95: t.latencyMs.p95,
              p99: t.latencyMs.p99,
            }))}
            columns={[
              ['type', 'Type'],
              ['total', 'Total'],
              ['failed', 'Failed'],
              ['p50', 'p50 (ms)'],
              ['p95', 'p95 (ms)'],
              ['p99', 'p99 (ms)'],
            ]}
          />
          <h2>Queues now</h2>
          <Table
            rows={d.queues}
            columns={[
              ['queue', 'Queue'],
              ['messages', 'Messages'],
              ['consumers', 'Consumers'],
            ]}
          />
        </>
      )}
    </section>
  );
}
