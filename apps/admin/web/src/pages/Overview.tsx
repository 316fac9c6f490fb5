import { Bars } from '../components/Bars';
import { Card } from '../components/Card';
import { Choice, TextFilter } from '../components/filters';
import { Status } from '../components/Status';
import { Table } from '../components/Table';
import { useLoad } from '../load';
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
  usage: { type: string; processed: number; unbilled: number }[];
  outbox: {
    backlog: number;
    oldestUnpublishedSeconds: number | null;
    publishLagMs: { p50: number | null; p99: number | null };
  };
  webhooks: {
    deliveries: number;
    succeeded: number;
    failed: number;
    pending: number;
    successRate: number | null;
  };
  deadLetters: { pending: number };
  queues: { queue: string; messages: number | null; consumers: number | null }[];
  services: { name: string; up: boolean }[];
}

export function Overview({ query, go }: PageProps) {
  const window = query.get('window') ?? '1h';
  const tenant = query.get('tenantId') ?? '';
  const m = useLoad<Metrics>(
    `/metrics?window=${window}${tenant ? `&tenantId=${encodeURIComponent(tenant)}` : ''}`,
    5000,
  );
  const d = m.data;
  return (
    <section>
      <header className="row">
        <h1>Overview</h1>
        <label>
          Window{' '}
          <Choice
            value={window}
            options={['5m', '15m', '1h', '6h', '24h']}
            onChange={(v) => go(`/overview?window=${v}&tenantId=${tenant}`)}
          />
        </label>
        <TextFilter
          label="Tenant"
          placeholder="all tenants"
          value={tenant}
          onEnter={(v) => go(`/overview?window=${window}&tenantId=${encodeURIComponent(v)}`)}
        />
      </header>
      <Status loading={m.loading && !d} error={m.error} />
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
              value={d.outbox.publishLagMs.p99 === null ? '—' : `${Math.round(d.outbox.publishLagMs.p99)} ms`}
            />
            <Card label="Dead letters" value={d.deadLetters.pending} onClick={() => go('/dead-letters')} />
            <Card
              label="Webhook success"
              value={d.webhooks.successRate === null ? '—' : `${Math.round(d.webhooks.successRate * 100)}%`}
            />
          </div>
          <div className="charts">
            <Bars
              title="Throughput (per minute)"
              items={d.transactions.map((t) => ({ label: t.type, value: t.perSecond * 60 }))}
            />
            <Bars
              title="Success rate"
              unit="%"
              items={d.transactions
                .filter((t) => t.successRate !== null)
                .map((t) => ({ label: t.type, value: (t.successRate ?? 0) * 100 }))}
            />
            <Bars
              title="Latency p99 (ms)"
              items={d.transactions
                .filter((t) => t.latencyMs.p99 !== null)
                .map((t) => ({ label: t.type, value: t.latencyMs.p99 ?? 0 }))}
            />
            <Bars
              title="Queue depth"
              items={d.queues.map((q) => ({
                label: q.queue,
                value: q.messages ?? 0,
              }))}
            />
          </div>
          <h2>Latency percentiles (ms)</h2>
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
              ['p50', 'p50'],
              ['p95', 'p95'],
              ['p99', 'p99'],
            ]}
          />
          <h2>Queues</h2>
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
