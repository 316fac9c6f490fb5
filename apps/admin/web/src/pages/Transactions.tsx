import { Status } from '../components/Status';
import { Listing, Table, format } from '../components/Table';
import { useLoad } from '../load';
import { useOpenRow } from '../router';
import type { PageProps, Row } from '../types';

export function Transactions({ query, go }: PageProps) {
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
