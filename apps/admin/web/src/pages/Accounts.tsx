import { useState } from 'react';
import { newIdempotencyKey } from '../api';
import { withReason } from '../components/dialogs';
import { TextFilter } from '../components/filters';
import { ListPage } from '../components/ListPage';
import { Table } from '../components/Table';
import { useLoad } from '../load';
import { formatMoney } from '../money';
import { useOpenRow } from '../router';
import type { PageProps, Row } from '../types';

export function Accounts({ query, go }: PageProps) {
  const { search, open, openRow, filter } = useOpenRow('/accounts', query, go);
  const list = useLoad<{ data: Row[]; nextBefore: string | null }>(`/accounts?${search.toString()}`);
  const money = (a: Row) => ({
    ...a,
    posted: formatMoney(a.posted, a.currency),
    held: formatMoney(a.held, a.currency),
    available: formatMoney(a.available, a.currency),
  });
  const detail = useLoad<Row & { entries: Row[] }>(open ? `/accounts/${open}` : null);
  const currency = detail.data?.currency;
  const [message, setMessage] = useState<string>();
  const act = async (label: string, run: () => Promise<string | null>) => {
    const error = await run();
    setMessage(error ?? `${label}.`);
    detail.reload();
    list.reload();
  };
  const lock =
    detail.data?.status === 'active'
      ? { action: 'freeze', label: 'Freeze', done: 'Frozen' }
      : { action: 'unfreeze', label: 'Unfreeze', done: 'Unfrozen' };
  return (
    <ListPage
      title="Accounts"
      filters={
        <TextFilter
          label="Tenant"
          placeholder="tenant id"
          value={query.get('tenantId') ?? ''}
          onEnter={(v) => go(`/accounts?tenantId=${encodeURIComponent(v)}`)}
        />
      }
      message={message}
      load={{ ...list, data: list.data && { ...list.data, data: list.data.data.map(money) } }}
      paging={{ before: query.get('before'), onPage: (b) => filter('before', b) }}
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
    >
      {open && detail.data && (
        <aside className="detail" aria-label="Account detail">
          <h2>{String(detail.data.id)}</h2>
          <p>
            <strong>{String(detail.data.status)}</strong> · posted {formatMoney(detail.data.posted, currency)}{' '}
            · held {formatMoney(detail.data.held, currency)} · available{' '}
            <span data-testid="account-available">{formatMoney(detail.data.available, currency)}</span>
          </p>
          <div className="row">
            <button
              type="button"
              onClick={() =>
                act(lock.done, () =>
                  withReason(
                    `${lock.label} this account? Reason:`,
                    'POST',
                    `/accounts/${open}/${lock.action}`,
                  ),
                )
              }
            >
              {lock.label}
            </button>
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
            rows={detail.data.entries.map((e) => ({
              ...e,
              amount: formatMoney(e.amount, currency),
              balanceAfter: formatMoney(e.balanceAfter, currency),
            }))}
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
    </ListPage>
  );
}
