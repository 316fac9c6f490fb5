import { useState } from 'react';
import { openFile } from '../api';
import { Pager } from '../components/Pager';
import { Status } from '../components/Status';
import { Choice, TextFilter, TimeFilter } from '../components/filters';
import { ListPage } from '../components/ListPage';
import { Table, format } from '../components/Table';
import { useLoad } from '../load';
import { formatMoney } from '../money';
import { useOpenRow } from '../router';
import type { PageProps, Row } from '../types';

/** An order as a row: its total in its currency's format and how many lines it has. */
const shown = (o: Row): Row => ({
  ...o,
  total: formatMoney(o.total, o.currency),
  lines: (o.items as Row[]).length,
});

export function Orders({ query, go }: PageProps) {
  const { search, open, openRow, filter } = useOpenRow('/orders', query, go);
  const list = useLoad<{ data: Row[]; nextBefore: string | null }>(`/orders?${search.toString()}`);
  const detail = useLoad<Row>(open ? `/orders/${open}` : null);
  const [message, setMessage] = useState<string>();
  const text = (key: string, label: string, placeholder: string) => (
    <TextFilter
      label={label}
      placeholder={placeholder}
      value={query.get(key) ?? ''}
      onEnter={(v) => filter(key, v.trim())}
    />
  );
  const o = detail.data;
  const money = (amount: unknown) => formatMoney(amount, o?.currency);
  const hold = o?.hold as Row | undefined;
  const capture = o?.transaction as Row | null | undefined;
  return (
    <ListPage
      title="Orders"
      filters={
        <>
          {text('tenantId', 'Tenant', 'tenant id')}
          {text('accountId', 'Account', 'account id')}
          <Choice
            label="Status"
            value={query.get('status') ?? ''}
            any="any status"
            options={['reserved', 'completed', 'cancelled', 'failed']}
            onChange={(v) => filter('status', v)}
          />
          <TimeFilter label="From" value={query.get('from') ?? ''} onChange={(v) => filter('from', v)} />
          <TimeFilter label="To" value={query.get('to') ?? ''} onChange={(v) => filter('to', v)} />
        </>
      }
      message={message}
      load={{ ...list, data: list.data && { data: list.data.data.map(shown) } }}
      columns={[
        ['id', 'Id'],
        ['status', 'Status'],
        ['total', 'Total'],
        ['lines', 'Lines'],
        ['accountId', 'Account'],
        ['tenantId', 'Tenant'],
        ['createdAt', 'Placed'],
        ['completedAt', 'Ended'],
      ]}
      onOpen={openRow}
    >
      <Pager before={query.get('before')} next={list.data?.nextBefore} onPage={(b) => filter('before', b)} />
      {open && (
        <aside className="detail" aria-label="Order detail">
          <Status loading={detail.loading} error={detail.error} />
          {o && hold && (
            <>
              <h2>{String(o.id)}</h2>
              <p>
                <strong>{String(o.status)}</strong> · {money(o.total)} · account {String(o.accountId)} ·
                tenant {String(o.tenantId)} · placed {format(o.createdAt)}
                {o.failure ? <> · failed: {format(o.failure)}</> : null}
              </p>
              <h3>Lines</h3>
              <Table
                rows={(o.items as Row[]).map((i) => ({
                  ...i,
                  id: String(i.productId),
                  unitPrice: money(i.unitPrice),
                  amount: money(i.amount),
                }))}
                columns={[
                  ['sku', 'SKU'],
                  ['name', 'Name'],
                  ['quantity', 'Quantity'],
                  ['unitPrice', 'Unit price'],
                  ['amount', 'Amount'],
                ]}
              />
              <h3>Hold</h3>
              <p data-testid="order-hold">
                {String(hold.id)} · <strong>{String(hold.status)}</strong> · {money(hold.amount)}
                {hold.capturedAmount !== null && <> · captured {money(hold.capturedAmount)}</>}
              </p>
              <h3>Transaction</h3>
              <p>
                {capture ? (
                  <a href={`#/transactions?id=${String(capture.id)}&open=${String(capture.id)}`}>
                    {String(capture.id)} ({String(capture.status)})
                  </a>
                ) : (
                  <span className="muted">none until completed</span>
                )}
              </p>
              <h3>Events</h3>
              <Table
                rows={(o.events as Row[]).map((e) => ({ ...e, id: String(e.messageId) }))}
                columns={[
                  ['type', 'Event'],
                  ['createdAt', 'Written'],
                  ['publishedAt', 'Published'],
                ]}
              />
              {typeof o.receiptUrl === 'string' && (
                <p>
                  <button
                    type="button"
                    className="secondary"
                    onClick={() =>
                      openFile(String(o.receiptUrl).replace(/^\/admin\/api/, '')).catch((e: Error) =>
                        setMessage(`Receipt: ${e.message}`),
                      )
                    }
                  >
                    Receipt (PDF)
                  </button>
                </p>
              )}
            </>
          )}
        </aside>
      )}
    </ListPage>
  );
}
