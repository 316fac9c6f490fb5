import http from 'node:http';
import { pipeline } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { CELL_NAME_PATTERN } from '#config';
import { bearerToken, hasIdPrefix, hashApiKey, looksLikeApiKey, stringifyJson } from '#domain';
import { ApiError, problemOf } from '#http';
import { requestIdOf } from '#observability';
import type { CellDirectory } from '#persistence';

export interface CellRouterOptions {
  directory: CellDirectory;
  /** Each cell's gateway, by cell name. */
  cells: Map<string, URL>;
  /** Where requests that name no known tenant go (no credentials, an unknown key): its gateway answers them. */
  defaultCell: string;
  port: number;
  host?: string;
  /** How long a key's or tenant's cell is remembered (a tenant moved is routed anew within this). */
  cacheTtlMs?: number;
}

export interface CellRouter {
  url: string;
  /** Requests sent to each cell since start (for the demo and the bench). */
  routed: Map<string, number>;
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's, not the request's: never forwarded
// (nor any header the Connection header names). Proxy credentials are the edge's own.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);
const MAX_CACHED = 50_000;
/** The gateway's own body limit: a request body is read whole (up to this) before a cell's socket is taken. */
const MAX_BODY = 64 * 1024;
/** Longest wait for a cell's answer to begin (the gateway's request timeout is 40 s). */
const UPSTREAM_TIMEOUT_MS = 45_000;

/**
 * The edge of a deployment of several tenant cells (docs/scaling.md): every request goes to the
 * gateway of the cell its tenant lives in, found in the tenant → cell directory — by the SHA-256
 * of its API key, by the tenant claim (`tid`) of a customer access token, which the cell's
 * gateway then verifies, or by the tenant a refresh token names (`csr_<tenant id>.…`). The router
 * never decides who a caller is: a request it cannot place goes to the default cell, whose gateway
 * refuses it exactly as the API documents. A cell that cannot be reached is that cell's tenants'
 * 503, never the other cells'.
 *
 * Each request's body is read whole (at most the gateway's 64 KiB; more is a 413) before a socket
 * to a cell is taken, so slow clients hold only their own connection here, never a cell's. The
 * router is the edge: it sets X-Forwarded-For to its client's address (cells' gateways run with
 * HTTP_TRUST_PROXY). Lookups are cached, shared while in flight, and an expired entry is used
 * when the directory fails.
 */
export async function startCellRouter(options: CellRouterOptions): Promise<CellRouter> {
  for (const name of [...options.cells.keys(), options.defaultCell]) {
    if (!CELL_NAME_PATTERN.test(name)) throw new Error(`not a cell name: ${name}`);
  }
  for (const [name, url] of options.cells) {
    if (url.protocol !== 'http:')
      throw new Error(`cell ${name}: only http:// gateways (TLS ends at the edge)`);
  }
  if (!options.cells.has(options.defaultCell))
    throw new Error(`the default cell ${options.defaultCell} is not listed`);
  const ttl = options.cacheTtlMs ?? 5_000;
  const cache = new Map<string, { cell: string | null; expires: number }>();
  const inFlight = new Map<string, Promise<string | null>>();
  const agents = new Map(
    [...options.cells.keys()].map((name) => [name, new http.Agent({ keepAlive: true, maxSockets: 1024 })]),
  );
  const routed = new Map([...options.cells.keys()].map((name) => [name, 0]));

  const lookup = (cacheKey: string, find: () => Promise<string | null>): Promise<string | null> => {
    const hit = cache.get(cacheKey);
    if (hit && hit.expires > Date.now()) return Promise.resolve(hit.cell);
    let pending = inFlight.get(cacheKey);
    if (!pending) {
      pending = find()
        .then((cell) => {
          cache.delete(cacheKey);
          if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
          cache.set(cacheKey, { cell, expires: Date.now() + ttl });
          return cell;
        })
        .catch((error: unknown) => {
          // The directory failing: a tenant routed before stays routed (tenants seldom move).
          if (hit) return hit.cell;
          throw error;
        })
        .finally(() => inFlight.delete(cacheKey));
      inFlight.set(cacheKey, pending);
    }
    return pending;
  };

  /** The cell the request's credentials belong to; null when they name none. */
  const cellOf = async (authorization: string | undefined): Promise<string | null> => {
    const token = bearerToken(authorization);
    if (!token) return null;
    if (looksLikeApiKey(token)) {
      const hash = hashApiKey(token);
      return lookup(`k:${hash.toString('base64')}`, () => options.directory.cellOfKey(hash));
    }
    const tenantId = unverifiedTenantClaim(token);
    return tenantId ? lookup(`t:${tenantId}`, () => options.directory.cellOfTenant(tenantId)) : null;
  };

  const server = http.createServer((req, res) => {
    const requestId = requestIdOf(req);
    if (req.url === '/health/live') return void json(res, 200, { status: 'ok' });
    if (req.url === '/health/ready') {
      options.directory.ping().then(
        () => json(res, 200, { status: 'ok' }),
        () => json(res, 503, { status: 'error', directory: 'down' }),
      );
      return;
    }
    const refresh = req.method === 'POST' && req.url?.split('?')[0] === '/v1/customer-sessions/refresh';
    readBody(req)
      .then(async (body) => {
        if (body === null)
          return void problem(
            res,
            new ApiError(413, 'payload_too_large', 'The request body is larger than 64 KiB.', undefined, {
              connection: 'close',
            }),
            requestId,
          );
        // A refresh carries no credential but its refresh token, which names the tenant.
        const tenantId = refresh ? refreshTokenTenant(body) : null;
        let found: string | null;
        try {
          found = tenantId
            ? await lookup(`t:${tenantId}`, () => options.directory.cellOfTenant(tenantId))
            : await cellOf(req.headers.authorization);
        } catch {
          // Without the directory no request can be placed: all are refused, cleanly.
          return void unavailable(res, requestId, 'The tenant directory cannot be reached; please retry.');
        }
        if (req.socket.destroyed || res.destroyed) return; // the client left while it was looked up
        const cell = found && options.cells.has(found) ? found : options.defaultCell;
        forward(req, res, cell, requestId, body);
      })
      .catch(() => {
        if (!res.headersSent)
          unavailable(res, requestId, 'The request could not be forwarded; please retry.');
        else res.destroy();
      });
  });
  // Slow or stuck clients do not hold connections, as at the apps themselves.
  server.requestTimeout = 40_000;
  server.headersTimeout = 10_000;

  /** Sends the request, its body read, on to `cell`'s gateway, and its answer back as it comes. */
  function forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    cell: string,
    requestId: string,
    body: Buffer,
  ) {
    routed.set(cell, routed.get(cell)! + 1);
    const target = options.cells.get(cell)!;
    const headers: http.OutgoingHttpHeaders = {
      ...endToEnd(req.headers, ['x-request-id', 'x-forwarded-for']),
      'x-request-id': requestId,
    };
    // The router is the edge: its client's address is the one the cell's gateway should see.
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? 'unknown';
    headers['content-length'] = String(body.length);
    const upstream = http.request({
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      agent: agents.get(cell),
      timeout: UPSTREAM_TIMEOUT_MS,
    });
    upstream.on('response', (answer) => {
      const out: http.OutgoingHttpHeaders = { ...endToEnd(answer.headers), 'x-tally-cell': cell };
      res.writeHead(answer.statusCode ?? 502, out);
      // The cell dying mid-answer ends the client's connection too, never leaves it waiting.
      pipeline(answer, res, (error) => {
        if (error) res.destroy();
      });
    });
    upstream.on('timeout', () => upstream.destroy(new Error('no answer in time')));
    upstream.on('error', () => {
      // No answer began: the cell is down, refused the connection or did not answer in time. A
      // request that may have reached it is retried by the client under its Idempotency-Key.
      if (!res.headersSent)
        unavailable(res, requestId, `Cell ${cell} cannot be reached; please retry.`, cell);
      else res.destroy();
    });
    // A client gone before its answer: the cell's request is abandoned too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  }

  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    routed,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const agent of agents.values()) agent.destroy();
    },
  };
}

/** The request's body, whole; null past MAX_BODY (the rest is not read). */
function readBody(req: http.IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        req.pause();
        return resolve(null);
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('aborted', () => reject(new Error('client aborted')));
  });
}

/**
 * The `tid` claim of a JWT, read without checking its signature: it only chooses the cell, whose
 * gateway verifies the token (a forged one is routed somewhere and refused there).
 */
export function unverifiedTenantClaim(token: string): string | null {
  try {
    const { tid } = decodeJwt(token);
    return typeof tid === 'string' && hasIdPrefix(tid, 'ten') ? tid : null;
  } catch {
    return null; // not a JWT
  }
}

/** The tenant a refresh token (`csr_<tenant id>.<random>`) names, read from a refresh's JSON body. */
export function refreshTokenTenant(body: Buffer): string | null {
  try {
    const token = (JSON.parse(body.toString('utf8')) as { refreshToken?: unknown })?.refreshToken;
    const tenantId = typeof token === 'string' ? /^csr_([^.]{1,64})\./.exec(token)?.[1] : undefined;
    return tenantId && hasIdPrefix(tenantId, 'ten') ? tenantId : null;
  } catch {
    return null;
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * The headers that are the message's, not the connection's: hop-by-hop ones (RFC 9110 §7.6.1),
 * any the Connection header names, and `skip` left out.
 */
function endToEnd(headers: http.IncomingHttpHeaders, skip: string[] = []): http.OutgoingHttpHeaders {
  const named = headers.connection
    ? String(headers.connection)
        .split(',')
        .map((h) => h.trim().toLowerCase())
    : [];
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || skip.includes(name) || named.includes(name)) continue;
    kept[name] = value;
  }
  return kept;
}

/** 503 `service_unavailable` problem+json with Retry-After, as every Tally app answers it. */
function unavailable(res: http.ServerResponse, requestId: string, detail: string, cell?: string): void {
  const headers: Record<string, string> = { 'Retry-After': '1', ...(cell ? { 'x-tally-cell': cell } : {}) };
  problem(res, new ApiError(503, 'service_unavailable', detail, undefined, headers), requestId);
}

/** The router's own answer, as the apps shape problems (problemOf). */
function problem(res: http.ServerResponse, error: ApiError, requestId: string): void {
  const { problem: body, headers } = problemOf(error, requestId);
  res
    .writeHead(body.status, {
      ...headers,
      'content-type': 'application/problem+json',
      'x-request-id': requestId,
    })
    .end(stringifyJson(body));
}
