/** A row as the admin API answers it: fields by name, shown as they come. */
export type Row = Record<string, unknown>;

/** What every page gets from the router: its query and how to go elsewhere. */
export interface PageProps {
  query: URLSearchParams;
  go: (to: string) => void;
}
