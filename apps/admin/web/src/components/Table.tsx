import type { ReactNode } from 'react';
import type { Row } from '../types';
import { Pager } from './Pager';
import { Status } from './Status';

/** A data table; rows open on click or Enter when `onOpen` is given; `actions` adds a last column of buttons. */
export function Table({
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

/** One cell's value: a dash for none, timestamps in the browser's locale, objects as JSON. */
export function format(v: unknown): ReactNode {
  if (v === null || v === undefined) return <span className="muted">—</span>;
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return new Date(v).toLocaleString();
  if (typeof v === 'object') return <code>{JSON.stringify(v)}</code>;
  return String(v);
}

/** A page of a list as the admin API answers it: its rows, and where the next (older) page starts. */
export interface Loaded {
  data?: { data: Row[]; nextBefore?: string | null; nextCursor?: string | null };
  loading: boolean;
  error?: string;
  reload?: () => void;
}

/**
 * A loaded list: its loading, error (with a retry) and empty states, then its table, then its
 * pages when `paging` is given (`before`: the page shown, from the URL; the next one from the
 * answer's `nextBefore` or `nextCursor`).
 */
export function Listing({
  load,
  paging,
  ...table
}: {
  load: Loaded;
  paging?: { before: string | null; onPage: (before: string) => void };
} & Omit<Parameters<typeof Table>[0], 'rows'>) {
  const rows = load.data?.data;
  return (
    <>
      <Status
        loading={load.loading && !rows}
        error={load.error}
        empty={rows?.length === 0}
        onRetry={load.reload}
      />
      {rows && rows.length > 0 && !load.error && <Table rows={rows} {...table} />}
      {paging && !load.error && (
        <Pager
          before={paging.before}
          next={load.data?.nextBefore ?? load.data?.nextCursor}
          onPage={paging.onPage}
        />
      )}
    </>
  );
}
