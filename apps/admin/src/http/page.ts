/** A page of `limit` rows, read as `limit + 1` to know whether another follows; newest first by id. */
export function pageOf<T extends { id: string }>(rows: T[], limit: number) {
  const data = rows.slice(0, limit);
  return { data, nextBefore: rows.length > limit ? data[data.length - 1].id : null };
}
