/** A load's state in words: its error, that it is loading, or that it came back empty. */
export function Status({ loading, error, empty }: { loading: boolean; error?: string; empty?: boolean }) {
  if (error)
    return (
      <p className="error" role="alert">
        Could not load: {error}
      </p>
    );
  if (loading) return <p className="muted">Loading…</p>;
  if (empty) return <p className="muted">Nothing here.</p>;
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
