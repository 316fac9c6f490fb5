import { StrictMode, useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiProblem, api, newIdempotencyKey, session, type Tokens } from './api';
import './styles.css';

type Row = Record<string, unknown>;

/** Loads `path` (again every `refreshMs` if given): data, error and loading state. */
function useLoad<T>(path: string | null, refreshMs?: number) {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api<T>('GET', path)
      .then((data) => live && setState({ data, loading: false }))
      .catch((e: Error) => live && setState({ error: e.message, loading: false }));
    const timer = refreshMs ? setTimeout(() => setTick((t) => t + 1), refreshMs) : undefined;
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [path, refreshMs, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** The route lives in the hash (#/transactions?status=failed): shareable, no server routes needed. */
function useRoute(): [string, URLSearchParams, (to: string) => void] {
  const read = () => window.location.hash.slice(1) || '/overview';
  const [hash, setHash] = useState(read);
  useEffect(() => {
    const on = () => setHash(read());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const [page, query = ''] = hash.split('?');
  return [page, new URLSearchParams(query), (to) => (window.location.hash = to)];
}

/**
 * A list page whose open row lives in the URL (`?open=<id>`), next to its filters: the list's own
 * query (without `open`), the open id, and how to open a row or change a filter (which closes it).
 */
function useOpenRow(page: string, query: URLSearchParams, go: (to: string) => void) {
  const search = new URLSearchParams(query);
  search.delete('open'); // the open detail is the page's, not the search's
  const navigate = (change: (next: URLSearchParams) => void) => {
    const next = new URLSearchParams(query);
    change(next);
    go(`${page}?${next}`);
  };
  return {
    search,
    open: query.get('open'),
    openRow: (r: Row) => navigate((next) => next.set('open', String(r.id))),
    filter: (key: string, value: string) =>
      navigate((next) => {
        if (value) next.set(key, value);
        else next.delete(key);
        next.delete('open');
      }),
  };
}

function Status({ loading, error, empty }: { loading: boolean; error?: string; empty?: boolean }) {
  if (error)
    return (
      <p className="error" role="alert">
        Could not load: {error}
      </p>
    );
  if (loading) return <p className="muted">Loading…</p>;
  if (empty) return <p className="muted">Nothing here.</p>;
  return null;
}

/** A data table; rows open on click or Enter when `onOpen` is given; `actions` adds a last column of buttons. */
function Table({
  rows,
  columns,
  onOpen,
  actions,
  testId,
}: {
  rows: Row[];
  columns: [string, string][];
  onOpen?: (r: Row) => void;
  actions?: (r: Row) => ReactNode;
  testId?: (r: Row) => string;
}) {
  return (
    <table>
      <thead>
        <tr>
          {columns.map(([, label]) => (
            <th key={label}>{label}</th>
          ))}
          {actions && <th />}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr
            key={String(r.id ?? i)}
            tabIndex={onOpen ? 0 : undefined}
            onClick={() => onOpen?.(r)}
            onKeyDown={(e) => e.key === 'Enter' && onOpen?.(r)}
            className={onOpen ? 'clickable' : undefined}
            data-testid={testId?.(r)}
          >
            {columns.map(([key, label]) => (
              <td key={label} data-label={label}>
                {format(r[key])}
              </td>
            ))}
            {actions && <td className="actions">{actions(r)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function format(v: unknown): ReactNode {
  if (v === null || v === undefined) return <span className="muted">—</span>;
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return new Date(v).toLocaleString();
  if (typeof v === 'object') return <code>{JSON.stringify(v)}</code>;
  return String(v);
}

/** A horizontal bar chart in SVG: one bar per item, labelled with its value. */
function Bars({
  title,
  items,
  unit = '',
}: {
  title: string;
  items: { label: string; value: number }[];
  unit?: string;
}) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return (
    <figure className="chart" data-testid={`chart-${title}`}>
      <figcaption>{title}</figcaption>
      {items.length === 0 ? (
        <p className="muted">No data in this window.</p>
      ) : (
        <svg viewBox={`0 0 420 ${items.length * 26}`} role="img" aria-label={title}>
          {items.map((item, i) => (
            <g key={item.label} transform={`translate(0, ${i * 26})`}>
              <text x="0" y="15" className="label">
                {item.label}
              </text>
              <rect x="190" y="3" height="16" width={Math.max(2, (item.value / max) * 170)} rx="3" />
              <text x={196 + (item.value / max) * 170} y="15" className="value">
                {Math.round(item.value * 100) / 100}
                {unit}
              </text>
            </g>
          ))}
        </svg>
      )}
    </figure>
  );
}

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

function Overview({ query, go }: { query: URLSearchParams; go: (to: string) => void }) {
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
          <select
            value={window}
            onChange={(e) => go(`/overview?window=${e.target.value}&tenantId=${tenant}`)}
          >
            {['5m', '15m', '1h', '6h', '24h'].map((w) => (
              <option key={w}>{w}</option>
            ))}
          </select>
        </label>
        <input
          aria-label="Tenant"
          placeholder="all tenants"
          defaultValue={tenant}
          onKeyDown={(e) =>
            e.key === 'Enter' &&
            go(`/overview?window=${window}&tenantId=${encodeURIComponent(e.currentTarget.value)}`)
          }
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

function Card({ label, value, onClick }: { label: string; value: ReactNode; onClick?: () => void }) {
  return (
    <button type="button" className="card" onClick={onClick} disabled={!onClick}>
      <span className="muted">{label}</span>
      <strong data-testid={`card-${label}`}>{value}</strong>
    </button>
  );
}

function Transactions({ query, go }: { query: URLSearchParams; go: (to: string) => void }) {
  const { search, open, openRow, filter } = useOpenRow('/transactions', query, go);
  const list = useLoad<{ data: Row[] }>(`/transactions?${search.toString()}`);
  const detail = useLoad<Row>(open ? `/transactions/${open}` : null);
  return (
    <section>
      <h1>Transactions</h1>
      <div className="row filters">
        <select
          aria-label="Status"
          value={query.get('status') ?? ''}
          onChange={(e) => filter('status', e.target.value)}
        >
          <option value="">any status</option>
          {['pending', 'processing', 'succeeded', 'failed'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <select
          aria-label="Type"
          value={query.get('type') ?? ''}
          onChange={(e) => filter('type', e.target.value)}
        >
          <option value="">any type</option>
          {['deposit', 'withdrawal', 'transfer', 'charge', 'refund', 'capture', 'adjustment'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <input
          aria-label="Account"
          placeholder="account id"
          defaultValue={query.get('accountId') ?? ''}
          onKeyDown={(e) => e.key === 'Enter' && filter('accountId', e.currentTarget.value)}
        />
      </div>
      <Listing
        load={list}
        columns={[
          ['id', 'Id'],
          ['type', 'Type'],
          ['status', 'Status'],
          ['amount', 'Amount'],
          ['currency', 'Currency'],
          ['failureCode', 'Failure'],
          ['createdAt', 'Created'],
        ]}
        onOpen={openRow}
      />
      {open && (
        <aside className="detail" aria-label="Transaction detail">
          <Status loading={detail.loading} error={detail.error} />
          {detail.data && (
            <>
              <h2>{String(detail.data.id)}</h2>
              <p>
                {String(detail.data.type)} · <strong>{String(detail.data.status)}</strong> · correlation{' '}
                {format(detail.data.correlationId)}
              </p>
              <h3>Timeline</h3>
              <ol>
                {(detail.data.timeline as Row[]).map((s, i) => (
                  <li key={i}>
                    {format(s.at)} — {String(s.what)}
                  </li>
                ))}
              </ol>
              <h3>Messages</h3>
              <Table
                rows={detail.data.messages as Row[]}
                columns={[
                  ['type', 'Message'],
                  ['createdAt', 'Written'],
                  ['publishedAt', 'Published'],
                  ['publishAttempts', 'Publish attempts'],
                ]}
              />
              {(detail.data.deadLetters as Row[]).length > 0 && (
                <>
                  <h3>Dead letters</h3>
                  <Table
                    rows={detail.data.deadLetters as Row[]}
                    columns={[
                      ['id', 'Id'],
                      ['status', 'Status'],
                      ['errorCode', 'Code'],
                      ['error', 'Error'],
                      ['failedAt', 'Failed'],
                    ]}
                  />
                </>
              )}
              <h3>Ledger entries</h3>
              <Table
                rows={detail.data.entries as Row[]}
                columns={[
                  ['accountId', 'Account'],
                  ['amount', 'Amount'],
                  ['balanceAfter', 'Balance after'],
                ]}
              />
            </>
          )}
        </aside>
      )}
    </section>
  );
}

function DeadLetters({ query, go }: { query: URLSearchParams; go: (to: string) => void }) {
  const status = query.get('status') ?? 'pending';
  const list = useLoad<{ data: Row[] }>(`/dead-letters?status=${status}`);
  const [message, setMessage] = useState<string>();
  const act = async (row: Row, action: 'replay' | 'discard') => {
    const reason = window.prompt(`${action === 'replay' ? 'Replay' : 'Discard'} ${row.id}? Give a reason:`);
    if (!reason) return;
    try {
      await api('POST', `/dead-letters/${row.id}/${action}`, { reason });
      setMessage(`${row.id} ${action === 'replay' ? 'replayed' : 'discarded'}.`);
      list.reload();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  const replayAll = async () => {
    const reason = window.prompt(`Replay every ${status} dead letter? Give a reason:`);
    if (!reason) return;
    const r = await api<{ replayed: number }>('POST', '/dead-letters/replay', { filter: { status }, reason });
    setMessage(`${r.replayed} replayed.`);
    list.reload();
  };
  return (
    <section>
      <header className="row">
        <h1>Dead letters</h1>
        <select
          aria-label="Status"
          value={status}
          onChange={(e) => go(`/dead-letters?status=${e.target.value}`)}
        >
          {['pending', 'replayed', 'discarded'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        {status === 'pending' && (
          <button type="button" onClick={replayAll}>
            Replay all
          </button>
        )}
      </header>
      <Notice message={message} />
      <Listing
        load={list}
        columns={[
          ['type', 'Type'],
          ['failedQueue', 'Queue'],
          ['errorCode', 'Code'],
          ['error', 'Error'],
          ['failedAt', 'Failed'],
          ['status', 'Status'],
        ]}
        testId={(r) => `dead-letter-${r.id}`}
        actions={(r) => (
          <>
            {r.status !== 'discarded' && (
              <button type="button" onClick={() => act(r, 'replay')}>
                Replay
              </button>
            )}
            {r.status === 'pending' && (
              <button type="button" className="secondary" onClick={() => act(r, 'discard')}>
                Discard
              </button>
            )}
          </>
        )}
      />
    </section>
  );
}

/** Asks for a reason, then posts; answers the error message or null. */
async function withReason(
  question: string,
  method: string,
  path: string,
  extra: Record<string, unknown> = {},
  headers?: Record<string, string>,
) {
  const reason = window.prompt(question);
  if (!reason) return 'Cancelled.';
  try {
    await api(method, path, { ...extra, reason }, headers);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

function Accounts({ query, go }: { query: URLSearchParams; go: (to: string) => void }) {
  const { search, open, openRow } = useOpenRow('/accounts', query, go);
  const list = useLoad<{ data: Row[] }>(`/accounts?${search.toString()}`);
  const detail = useLoad<Row & { entries: Row[] }>(open ? `/accounts/${open}` : null);
  const [message, setMessage] = useState<string>();
  const act = async (label: string, run: () => Promise<string | null>) => {
    const error = await run();
    setMessage(error ?? `${label}.`);
    detail.reload();
    list.reload();
  };
  return (
    <section>
      <h1>Accounts</h1>
      <div className="row filters">
        <input
          aria-label="Tenant"
          placeholder="tenant id"
          defaultValue={query.get('tenantId') ?? ''}
          onKeyDown={(e) =>
            e.key === 'Enter' && go(`/accounts?tenantId=${encodeURIComponent(e.currentTarget.value)}`)
          }
        />
      </div>
      <Notice message={message} />
      <Listing
        load={list}
        columns={[
          ['id', 'Id'],
          ['tenantId', 'Tenant'],
          ['currency', 'Currency'],
          ['status', 'Status'],
          ['posted', 'Posted'],
          ['held', 'Held'],
          ['available', 'Available'],
        ]}
        onOpen={openRow}
      />
      {open && detail.data && (
        <aside className="detail" aria-label="Account detail">
          <h2>{String(detail.data.id)}</h2>
          <p>
            <strong>{String(detail.data.status)}</strong> · posted {String(detail.data.posted)} · held{' '}
            {String(detail.data.held)} · available {String(detail.data.available)}{' '}
            {String(detail.data.currency)}
          </p>
          <div className="row">
            {detail.data.status === 'active' ? (
              <button
                type="button"
                onClick={() =>
                  act('Frozen', () =>
                    withReason('Freeze this account? Reason:', 'POST', `/accounts/${open}/freeze`),
                  )
                }
              >
                Freeze
              </button>
            ) : (
              <button
                type="button"
                onClick={() =>
                  act('Unfrozen', () =>
                    withReason('Unfreeze this account? Reason:', 'POST', `/accounts/${open}/unfreeze`),
                  )
                }
              >
                Unfreeze
              </button>
            )}
            {(['credit', 'debit'] as const).map((direction) => (
              <button
                key={direction}
                type="button"
                className="secondary"
                onClick={() =>
                  act(`Adjustment (${direction}) submitted`, async () => {
                    const amount = window.prompt(`Amount to ${direction} (minor units):`);
                    if (!amount) return 'Cancelled.';
                    return withReason(
                      `Reason for this ${direction}:`,
                      'POST',
                      `/accounts/${open}/adjustments`,
                      { direction, amount },
                      { 'idempotency-key': newIdempotencyKey() },
                    );
                  })
                }
              >
                Adjust ({direction})
              </button>
            ))}
          </div>
          <h3>Ledger</h3>
          <Table
            rows={detail.data.entries}
            columns={[
              ['createdAt', 'When'],
              ['type', 'Type'],
              ['transactionId', 'Transaction'],
              ['amount', 'Amount'],
              ['balanceAfter', 'Balance after'],
            ]}
          />
        </aside>
      )}
    </section>
  );
}

function Keys({ tenantId, onMessage }: { tenantId: string; onMessage: (m: string) => void }) {
  const keys = useLoad<{ data: Row[] }>(`/tenants/${tenantId}/keys`);
  const create = async () => {
    const name = window.prompt('A name for the new key (what uses it):');
    if (!name) return;
    try {
      const k = await api<{ id: string; apiKey: string }>('POST', `/tenants/${tenantId}/keys`, { name });
      onMessage(`Key ${k.id} created. Shown only now: ${k.apiKey}`);
      keys.reload();
    } catch (e) {
      onMessage((e as Error).message);
    }
  };
  const revoke = async (r: Row) => {
    onMessage(
      (await withReason(
        `Revoke ${r.prefix}…? Reason:`,
        'POST',
        `/tenants/${tenantId}/keys/${r.id}/revoke`,
      )) ?? `Key ${r.id} revoked.`,
    );
    keys.reload();
  };
  return (
    <aside className="detail" aria-label="API keys">
      <header className="row">
        <h2>API keys of {tenantId}</h2>
        <button type="button" onClick={create}>
          New key
        </button>
      </header>
      <Listing
        load={keys}
        columns={[
          ['prefix', 'Prefix'],
          ['name', 'Name'],
          ['createdAt', 'Created'],
          ['lastUsedAt', 'Last used'],
          ['revokedAt', 'Revoked'],
        ]}
        actions={(k) =>
          !k.revokedAt && (
            <button type="button" className="secondary" onClick={() => revoke(k)}>
              Revoke
            </button>
          )
        }
      />
    </aside>
  );
}

function Tenants({ query, go }: { query: URLSearchParams; go: (to: string) => void }) {
  const list = useLoad<{ data: Row[] }>('/tenants');
  const [message, setMessage] = useState<string>();
  const keysOf = query.get('keys');
  const create = async () => {
    const name = window.prompt('Name of the new tenant:');
    if (!name) return;
    try {
      const t = await api<{ id: string; apiKey: string }>('POST', '/tenants', { name });
      setMessage(`Created ${t.id}. Its API key, shown only now: ${t.apiKey}`);
      list.reload();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  const toggle = async (r: Row) => {
    const action = r.status === 'active' ? 'disable' : 'enable';
    setMessage(
      (await withReason(`${action} ${r.id}? Reason:`, 'POST', `/tenants/${r.id}/${action}`)) ??
        `${r.id}: ${action}d.`,
    );
    list.reload();
  };
  return (
    <section>
      <header className="row">
        <h1>Tenants</h1>
        <button type="button" onClick={create}>
          New tenant
        </button>
      </header>
      <Notice message={message} />
      <Listing
        load={list}
        columns={[
          ['id', 'Id'],
          ['name', 'Name'],
          ['status', 'Status'],
          ['activeKeys', 'Keys'],
          ['notificationEmail', 'Email'],
        ]}
        actions={(r) => (
          <>
            <a href={`#/accounts?tenantId=${r.id}`}>Accounts</a>
            <button type="button" className="secondary" onClick={() => go(`/tenants?keys=${r.id}`)}>
              Keys
            </button>
            <button type="button" className="secondary" onClick={() => toggle(r)}>
              {r.status === 'active' ? 'Disable' : 'Enable'}
            </button>
          </>
        )}
      />
      {keysOf && <Keys tenantId={keysOf} onMessage={setMessage} />}
    </section>
  );
}

function Notice({ message }: { message?: string }) {
  return message ? (
    <p role="status" className="notice">
      {message}
    </p>
  ) : null;
}

/** A loaded list: its loading, error and empty states, then its table. */
function Listing({
  load,
  ...table
}: { load: { data?: { data: Row[] }; loading: boolean; error?: string } } & Omit<
  Parameters<typeof Table>[0],
  'rows'
>) {
  return (
    <>
      <Status loading={load.loading} error={load.error} empty={load.data?.data.length === 0} />
      {load.data && load.data.data.length > 0 && <Table rows={load.data.data} {...table} />}
    </>
  );
}

function Simple({ title, path, columns }: { title: string; path: string; columns: [string, string][] }) {
  const list = useLoad<{ data: Row[] }>(path);
  return (
    <section>
      <h1>{title}</h1>
      <Status loading={list.loading} error={list.error} empty={list.data?.data.length === 0} />
      {list.data && list.data.data.length > 0 && <Table rows={list.data.data} columns={columns} />}
    </section>
  );
}

function Login({ onSignedIn }: { onSignedIn: () => void }) {
  const [error, setError] = useState<string>();
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    try {
      session.set(
        await api<Tokens>('POST', '/auth/login', {
          email: form.get('email'),
          password: form.get('password'),
        }),
      );
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiProblem ? err.message : 'Could not sign in.');
    }
  };
  return (
    <form className="login" onSubmit={submit}>
      <h1>Tally operations</h1>
      <label>
        Email <input name="email" type="email" autoComplete="username" required />
      </label>
      <label>
        Password <input name="password" type="password" autoComplete="current-password" required />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit">Sign in</button>
    </form>
  );
}

const PAGES: [string, string][] = [
  ['/overview', 'Overview'],
  ['/transactions', 'Transactions'],
  ['/accounts', 'Accounts'],
  ['/dead-letters', 'Dead letters'],
  ['/usage', 'Usage'],
  ['/webhooks', 'Webhooks'],
  ['/audit', 'Audit log'],
  ['/tenants', 'Tenants'],
];

function App() {
  const [signedIn, setSignedIn] = useState(() => session.get() !== null);
  const [page, query, go] = useRoute();
  const signOut = useCallback(() => {
    const t = session.get();
    if (t) void api('POST', '/auth/logout', { refreshToken: t.refreshToken }).catch(() => undefined);
    session.set(null);
    setSignedIn(false);
  }, []);
  useEffect(() => {
    const on = () => setSignedIn(false);
    window.addEventListener('tally:signed-out', on);
    return () => window.removeEventListener('tally:signed-out', on);
  }, []);
  if (!signedIn) return <Login onSignedIn={() => setSignedIn(true)} />;
  return (
    <div className="shell">
      <nav>
        <strong className="brand">Tally</strong>
        {PAGES.map(([path, label]) => (
          <a key={path} href={`#${path}`} aria-current={page === path ? 'page' : undefined}>
            {label}
          </a>
        ))}
        <button type="button" className="secondary" onClick={signOut}>
          Sign out
        </button>
      </nav>
      <main>
        {page === '/overview' && <Overview query={query} go={go} />}
        {page === '/transactions' && <Transactions query={query} go={go} />}
        {page === '/dead-letters' && <DeadLetters query={query} go={go} />}
        {page === '/usage' && (
          <Simple
            title="Usage"
            path="/usage-events"
            columns={[
              ['id', 'Event'],
              ['tenantId', 'Tenant'],
              ['type', 'Type'],
              ['accountId', 'Account'],
              ['status', 'Status'],
              ['billingStatus', 'Billing'],
              ['amount', 'Amount'],
              ['failureCode', 'Failure'],
              ['receivedAt', 'Received'],
            ]}
          />
        )}
        {page === '/webhooks' && (
          <>
            <Simple
              title="Webhook endpoints"
              path="/webhook-endpoints"
              columns={[
                ['id', 'Endpoint'],
                ['tenantId', 'Tenant'],
                ['url', 'URL'],
                ['status', 'Status'],
                ['disabledReason', 'Why disabled'],
                ['pending', 'Pending'],
                ['failed', 'Failed'],
              ]}
            />
            <Simple
              title="Deliveries"
              path="/webhook-deliveries"
              columns={[
                ['id', 'Delivery'],
                ['url', 'Endpoint'],
                ['eventType', 'Event'],
                ['status', 'Status'],
                ['attempts', 'Attempts'],
                ['lastStatus', 'Last HTTP'],
                ['lastError', 'Last error'],
                ['createdAt', 'Created'],
              ]}
            />
          </>
        )}
        {page === '/audit' && (
          <Simple
            title="Audit log"
            path="/audit"
            columns={[
              ['createdAt', 'When'],
              ['operatorEmail', 'Who'],
              ['action', 'What'],
              ['targetType', 'On'],
              ['targetId', 'Target'],
              ['reason', 'Why'],
            ]}
          />
        )}
        {page === '/tenants' && <Tenants query={query} go={go} />}
        {page === '/accounts' && <Accounts query={query} go={go} />}
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
