/**
 * Postgres "data exception" (SQLSTATE class 22): a value the request carried that the database
 * cannot store or compare — a NUL character in text (22021, 22P05), a date or number out of
 * range (22007, 22008, 22003), text that is not a valid number or id (22P02). The request is at
 * fault, not the service: callers answer 400, never 500.
 */
export function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/** The database cannot be reached right now (connection refused or lost, shutting down, pool or gate exhausted). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | null;
  if (!e) return false;
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      '57P01',
      '57P02',
      '57P03',
      '53300',
      '08006',
      '08001',
      '08003',
      'GATE_TIMEOUT', // no place at a connection gate in time (gate.ts): as good as no connection
    ].includes(e.code ?? '') ||
    /timeout exceeded when trying to connect|Connection terminated/.test(e.message ?? '')
  );
}

/** The statement ran past statement_timeout and was cancelled (57014): the database is slow, not the request wrong. */
export function isStatementTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '57014';
}
