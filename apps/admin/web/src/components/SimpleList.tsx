import { useLoad } from '../load';
import type { Row } from '../types';
import { ListPage } from './ListPage';

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
  return <ListPage title={title} load={list} columns={columns} />;
}
