import { useState } from 'react';
import { useLoad } from '../load';
import type { Row } from '../types';
import { ListPage } from './ListPage';

/**
 * A page section that only lists what `path` answers, under a title, a page at a time (`before`
 * kept in the component: several lists can share a page).
 */
export function SimpleList({
  title,
  path,
  columns,
  present,
}: {
  title: string;
  path: string;
  columns: [string, string][];
  /** A row as shown (money formatted…). */
  present?: (r: Row) => Row;
}) {
  const [before, setBefore] = useState('');
  const list = useLoad<{ data: Row[]; nextBefore?: string | null }>(
    `${path}${path.includes('?') ? '&' : '?'}${before ? `before=${encodeURIComponent(before)}` : ''}`,
  );
  return (
    <ListPage
      title={title}
      load={
        present && list.data ? { ...list, data: { ...list.data, data: list.data.data.map(present) } } : list
      }
      columns={columns}
      paging={{ before: before || null, onPage: setBefore }}
    />
  );
}
