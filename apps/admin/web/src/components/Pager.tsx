/**
 * Pages of a list read newest first: the newest page, and the next older one from the answer's
 * `nextBefore` (none on the last page).
 */
export function Pager({
  before,
  next,
  onPage,
}: {
  before: string | null;
  next: string | null | undefined;
  onPage: (before: string) => void;
}) {
  if (!before && !next) return null;
  return (
    <div className="row pager">
      <button type="button" className="secondary" disabled={!before} onClick={() => onPage('')}>
        Newest
      </button>
      <button type="button" className="secondary" disabled={!next} onClick={() => next && onPage(next)}>
        Older
      </button>
    </div>
  );
}
