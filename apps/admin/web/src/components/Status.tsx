/**
 * The shared states of anything loaded: its error (with a retry when `onRetry` is given), that it
 * is loading, or that it came back empty. Each carries `data-state` for tests and styles.
 */
export function Status({
  loading,
  error,
  empty,
  emptyText = 'Nothing here.',
  onRetry,
}: {
  loading: boolean;
  error?: string;
  empty?: boolean;
  emptyText?: string;
  onRetry?: () => void;
}) {
  if (error)
    return (
      <div className="state state-error" role="alert" data-state="error">
        <span>Could not load: {error}</span>
        {onRetry && (
          <button type="button" className="secondary" onClick={onRetry}>
            Retry
          </button>
        )}
      </div>
    );
  if (loading)
    return (
      <p className="state muted" data-state="loading" aria-busy="true">
        Loading…
      </p>
    );
  if (empty)
    return (
      <p className="state muted" data-state="empty">
        {emptyText}
      </p>
    );
  return null;
}

/** The outcome of the operator's last action, announced to screen readers. */
export function Notice({ message }: { message?: string }) {
  return message ? (
    <p role="status" className="notice">
      {message}
    </p>
  ) : null;
}
