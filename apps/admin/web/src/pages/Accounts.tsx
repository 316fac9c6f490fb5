import { useState } from 'react';
import { newIdempotencyKey } from '../api';
import { withReason } from '../components/dialogs';
import { TextFilter } from '../components/filters';
import { ListPage } from '../components/ListPage';
import { Table } from '../components/Table';
import { useLoad } from '../load';
import { useOpenRow } from '../router';
import type { PageProps, Row } from '../types';

export function Accounts({ query, go }: PageProps) {
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
    >
      {open && detail.data && (
        <aside className="detail" aria-label="Account detail">
          <h2>{String(detail.data.id)}</h2>
          <p>
            <strong>{String(detail.data.status)}</strong> · posted {String(detail.data.posted)} · held{' '}
            {String(detail.data.held)} · available {String(detail.data.available)}{' '}
            {String(detail.data.currency)}
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
    </ListPage>
  );
}
