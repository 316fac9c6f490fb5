import type { ComponentProps, ReactNode } from 'react';
import { Notice } from './Status';
import { Listing } from './Table';

/**
 * A page around one list: its title (in a header row with `controls` when there are any), its
 * filters, the outcome of the last action, what comes `above` the list (charts), the list and its
 * pages, then what opens beside it (`children`).
 */
export function ListPage({
  title,
  controls,
  filters,
  message,
  above,
  children,
  ...listing
}: {
  title: string;
  controls?: ReactNode;
  filters?: ReactNode;
  message?: string;
  above?: ReactNode;
  children?: ReactNode;
} & ComponentProps<typeof Listing>) {
  return (
    <section>
      {controls ? (
        <header className="row">
          <h1>{title}</h1>
          {controls}
        </header>
      ) : (
        <h1>{title}</h1>
      )}
      {filters && <div className="row filters">{filters}</div>}
      <Notice message={message} />
      {above}
      <Listing {...listing} />
      {children}
    </section>
  );
}
