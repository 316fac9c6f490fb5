import type { ComponentProps, ReactNode } from 'react';
import { Notice } from './Status';
import { Listing } from './Table';

/**
 * A page around one list: its title (in a header row with `controls` when there are any), its
 * filters, the outcome of the last action, the list, then what opens beside it (`children`).
 */
export function ListPage({
  title,
  controls,
  filters,
  message,
  children,
  ...listing
}: {
  title: string;
  controls?: ReactNode;
  filters?: ReactNode;
  message?: string;
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
      <Listing {...listing} />
      {children}
    </section>
  );
}
