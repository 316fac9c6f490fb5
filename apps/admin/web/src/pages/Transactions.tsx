import { Status } from '../components/Status';
import { Choice, TextFilter } from '../components/filters';
import { ListPage } from '../components/ListPage';
import { Table, format } from '../components/Table';
import { useLoad } from '../load';
import { formatMoney } from '../money';
import { useOpenRow } from '../router';
import type { PageProps, Row } from '../types';

export function Transactions({ query, go }: PageProps) {
  const { search, open, openRow, filter } = useOpenRow('/transactions', query, go);
  const list = useLoad<{ data: Row[]; nextBefore: string | null }>(`/transactions?${search.toString()}`);
  const detail = useLoad<Row>(open ? `/transactions/${open}` : null);
  const currency = detail.data?.currency;
  return (
    <ListPage
      title="Transactions"
      filters={
        <>
          <Choice
            label="Status"
            value={query.get('status') ?? ''}
            any="any status"
            options={['pending', 'processing', 'succeeded', 'failed']}
            onChange={(v) => filter('status', v)}
          />
          <Choice
            label="Type"
            value={query.get('type') ?? ''}
            any="any type"
            options={['deposit', 'withdrawal', 'transfer', 'charge', 'refund', 'capture', 'adjustment']}
            onChange={(v) => filter('type', v)}
          />
          <TextFilter
            label="Account"
            placeholder="account id"
            value={query.get('accountId') ?? ''}
            onEnter={(v) => filter('accountId', v)}
          />
        </>
      }
      load={{
        ...list,
        data: list.data && {
          ...list.data,
          data: list.data.data.map((t) => ({ ...t, amount: formatMoney(t.amount, t.currency) })),
        },
      }}
      paging={{ before: query.get('before'), onPage: (b) => filter('before', b) }}
      columns={[
        ['id', 'Id'],
        ['type', 'Type'],
        ['status', 'Status'],
        ['amount', 'Amount'],
        ['failureCode', 'Failure'],
        ['createdAt', 'Created'],
      ]}
      onOpen={openRow}
    >
      {open && (
        <aside className="detail" aria-label="Transaction detail">
          <Status loading={detail.loading} error={detail.error} />
          {detail.data && (
            <>
              <h2>{String(detail.data.id)}</h2>
              <p>
                {String(detail.data.type)} · {formatMoney(detail.data.amount, currency)} ·{' '}
                <strong>{String(detail.data.status)}</strong> · correlation{' '}
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
                rows={(detail.data.entries as Row[]).map((e) => ({
                  ...e,
                  amount: formatMoney(e.amount, currency),
                  balanceAfter: formatMoney(e.balanceAfter, currency),
                }))}
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
    </ListPage>
  );
}
