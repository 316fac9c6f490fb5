import { Pager } from '../components/Pager';
import { Status } from '../components/Status';
import { Choice, TextFilter } from '../components/filters';
import { ListPage } from '../components/ListPage';
import { Table, format } from '../components/Table';
import { useLoad } from '../load';
import { formatMoney } from '../money';
import { useOpenRow } from '../router';
import type { PageProps, Row } from '../types';

type Stock = { onHand: number; reserved: number; available: number };

/** A product as a row: its price in its currency's format, its stock in three columns. */
const shown = (p: Row): Row => {
  const stock = p.stock as Stock;
  return { ...p, price: formatMoney(p.price, p.currency), ...stock };
};

export function Products({ query, go }: PageProps) {
  const { search, open, openRow, filter } = useOpenRow('/products', query, go);
  const list = useLoad<{ data: Row[]; nextBefore: string | null }>(`/products?${search.toString()}`);
  const detail = useLoad<Row>(open ? `/products/${open}` : null);
  const text = (key: string, label: string, placeholder: string) => (
    <TextFilter
      label={label}
      placeholder={placeholder}
      value={query.get(key) ?? ''}
      onEnter={(v) => filter(key, v.trim())}
    />
  );
  return (
    <ListPage
      title="Products"
      filters={
        <>
          {text('q', 'Search', 'search name, category, description')}
          {text('tenantId', 'Tenant', 'tenant id')}
          {text('category', 'Category', 'category')}
          <Choice
            label="Status"
            value={query.get('status') ?? ''}
            any="any status"
            options={['active', 'archived']}
            onChange={(v) => filter('status', v)}
          />
        </>
      }
      load={{ ...list, data: list.data && { data: list.data.data.map(shown) } }}
      columns={[
        ['sku', 'SKU'],
        ['name', 'Name'],
        ['category', 'Category'],
        ['status', 'Status'],
        ['price', 'Price'],
        ['onHand', 'On hand'],
        ['reserved', 'Reserved'],
        ['available', 'Available'],
        ['purchases', 'Sold'],
        ['tenantId', 'Tenant'],
      ]}
      onOpen={openRow}
    >
      <Pager before={query.get('before')} next={list.data?.nextBefore} onPage={(b) => filter('before', b)} />
      {open && (
        <aside className="detail" aria-label="Product detail">
          <Status loading={detail.loading} error={detail.error} />
          {detail.data && (
            <>
              <h2>{String(detail.data.name)}</h2>
              <p>
                {String(detail.data.sku)} · <strong>{String(detail.data.status)}</strong> ·{' '}
                {formatMoney(detail.data.price, detail.data.currency)} · tenant {String(detail.data.tenantId)}
              </p>
              <Table
                rows={[
                  {
                    id: String(detail.data.id),
                    ...(detail.data.stock as Stock),
                    sold: detail.data.purchases,
                  },
                ]}
                columns={[
                  ['onHand', 'On hand'],
                  ['reserved', 'Reserved'],
                  ['available', 'Available'],
                  ['sold', 'Sold'],
                ]}
              />
              <p>{format(detail.data.description)}</p>
              <p className="muted">
                {String(detail.data.id)} · category {format(detail.data.category)} · created{' '}
                {format(detail.data.createdAt)}
              </p>
            </>
          )}
        </aside>
      )}
    </ListPage>
  );
}
