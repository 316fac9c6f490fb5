import { useLoad } from '../load';
import type { Row } from '../types';
import { Listing } from './Table';

/** A page section that only lists what `path` answers, under a title. */
export function SimpleList({
  title,
  path,
  columns,
}: {
  title: string;
  path: string;
  columns: [string, string][];
}) {
  const list = useLoad<{ data: Row[] }>(path);
  return (
    <section>
      <h1>{title}</h1>
      <Listing load={list} columns={columns} />
    </section>
  );
}
