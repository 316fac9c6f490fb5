// The admin API from the browser: tokens in sessionStorage, one refresh on a 401, then sign-in again.
export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

const KEY = 'tally.admin.tokens';

export const session = {
  get: (): Tokens | null => JSON.parse(sessionStorage.getItem(KEY) ?? 'null'),
  set: (t: Tokens | null) =>
    t ? sessionStorage.setItem(KEY, JSON.stringify(t)) : sessionStorage.removeItem(KEY),
};

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function send(
  method: string,
  path: string,
  body: unknown,
  token: string | undefined,
  headers: Record<string, string> = {},
) {
  return fetch(`/admin/api${path}`, {
    method,
    headers: {
      ...headers,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
}

/** A fresh Idempotency-Key (getRandomValues: available outside secure contexts too). */
export function newIdempotencyKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(
    '',
  );
}

/** A request with the session's token, refreshed once on a 401; signs out when that fails too. */
async function authorized(method: string, path: string, body?: unknown, headers?: Record<string, string>) {
  let tokens = session.get();
  let res = await send(method, path, body, tokens?.accessToken, headers);
  if (res.status === 401 && tokens) {
    const refreshed = await send('POST', '/auth/refresh', { refreshToken: tokens.refreshToken }, undefined);
    if (refreshed.ok) {
      tokens = (await refreshed.json()) as Tokens;
      session.set(tokens);
      res = await send(method, path, body, tokens.accessToken, headers);
    } else {
      session.set(null);
      window.dispatchEvent(new Event('tally:signed-out'));
    }
  }
  return res;
}

async function problemOf(res: Response): Promise<ApiProblem> {
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  // A validation problem names its fields: the operator sees which value to fix.
  const fields = Array.isArray(data?.errors)
    ? (data.errors as { field?: string; message?: string }[])
        .map((e) => `${e.field}: ${e.message}`)
        .join('; ')
    : '';
  const detail = String(data?.detail ?? res.statusText);
  return new ApiProblem(res.status, data?.code ?? 'error', fields ? `${detail} ${fields}` : detail);
}

export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<T> {
  const res = await authorized(method, path, body, headers);
  if (!res.ok) throw await problemOf(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A file the API serves (a receipt's PDF), opened in a new tab: a link cannot carry the token. */
export async function openFile(path: string): Promise<void> {
  const res = await authorized('GET', path);
  if (!res.ok) throw await problemOf(res);
  const url = URL.createObjectURL(await res.blob());
  window.open(url, '_blank', 'noopener');
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
