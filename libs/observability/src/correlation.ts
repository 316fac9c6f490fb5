import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** What every log line and every message written inside a unit of work is tagged with. */
export interface CorrelationStore {
  correlationId: string;
  messageId?: string;
  messageType?: string;
}

const storage = new AsyncLocalStorage<CorrelationStore>();

export const Correlation = {
  run<T>(store: CorrelationStore, fn: () => T): T {
    return storage.run(store, fn);
  },
  current(): CorrelationStore | undefined {
    return storage.getStore();
  },
  /** The current correlation id, or undefined outside a request or message. */
  id(): string | undefined {
    return storage.getStore()?.correlationId;
  },
};

// Visible ASCII, bounded: an id from outside is echoed in headers and logs, so it must be tame.
const ACCEPTABLE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
const REQUEST_ID = Symbol('tally.requestId');

/**
 * The request's correlation id: its `X-Request-Id` when acceptable, otherwise a new UUID.
 * Memoised on the request so Fastify's request id, the access log and the correlation agree.
 */
export function requestIdOf(req: IncomingMessage): string {
  const memo = req as IncomingMessage & { [REQUEST_ID]?: string };
  if (memo[REQUEST_ID]) return memo[REQUEST_ID];
  const header = req.headers['x-request-id'];
  const candidate = Array.isArray(header) ? header[0] : header;
  const id = candidate && ACCEPTABLE_REQUEST_ID.test(candidate) ? candidate : randomUUID();
  memo[REQUEST_ID] = id;
  return id;
}
