import { api } from '../api';

/** Asks for a reason, then posts; answers the error message or null. */
export async function withReason(
  question: string,
  method: string,
  path: string,
  extra: Record<string, unknown> = {},
  headers?: Record<string, string>,
) {
  const reason = window.prompt(question);
  if (!reason) return 'Cancelled.';
  try {
    await api(method, path, { ...extra, reason }, headers);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
