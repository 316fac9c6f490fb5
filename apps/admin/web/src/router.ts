import { useEffect, useState } from 'react';
import type { Row } from './types';

/** The route lives in the hash (#/transactions?status=failed): shareable, no server routes needed. */
export function useRoute(): [string, URLSearchParams, (to: string) => void] {
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
export function useOpenRow(page: string, query: URLSearchParams, go: (to: string) => void) {
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
        if (key !== 'before') next.delete('before'); // another filter starts from the newest page
      }),
  };
}
