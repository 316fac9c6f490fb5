import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hasIdPrefix, hashApiKey, looksLikeApiKey } from '#domain';
import { CELL_NAME_PATTERN, type CellDirectory } from '#persistence';

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

// Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's, not the request's: never forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);
const MAX_CACHED = 50_000;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The edge of a deployment of several tenant cells (docs/scaling.md): every request goes to the
 * gateway of the cell its tenant lives in, found in the tenant → cell directory — by the SHA-256
 * of its API key, by the tenant claim (`tid`) of a customer access token, which the cell's
 * gateway then verifies, or by the tenant a refresh token names (`csr_<tenant id>.…`). The router never decides who a caller is: a request it cannot place goes
 * to the default cell, whose gateway refuses it exactly as the API documents. A cell that cannot
 * be reached is that cell's tenants' 503, never the other cells'.
 */
export async function startCellRouter(options: CellRouterOptions): Promise<CellRouter> {
  for (const name of [...options.cells.keys(), options.defaultCell]) {
    if (!CELL_NAME_PATTERN.test(name)) throw new Error(`not a cell name: ${name}`);
  }
  if (!options.cells.has(options.defaultCell))
    throw new Error(`the default cell ${options.defaultCell} is not listed`);
  const ttl = options.cacheTtlMs ?? 5_000;
  const cache = new Map<string, { cell: string | null; expires: number }>();
  const agents = new Map(
    [...options.cells.keys()].map((name) => [name, new http.Agent({ keepAlive: true, maxSockets: 256 })]),
  );
  const routed = new Map([...options.cells.keys()].map((name) => [name, 0]));

  const lookup = async (cacheKey: string, find: () => Promise<string | null>): Promise<string | null> => {
    const hit = cache.get(cacheKey);
    if (hit && hit.expires > Date.now()) return hit.cell;
    const cell = await find();
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(cacheKey, { cell, expires: Date.now() + ttl });
    return cell;
  };

  /** The cell the request's credentials belong to; null when they name none. */
  const cellOf = async (authorization: string | undefined): Promise<string | null> => {
    const token = /^Bearer ([^\s]+)$/.exec(authorization ?? '')?.[1];
    if (!token) return null;
    if (looksLikeApiKey(token)) {
      const hash = hashApiKey(token);
      return lookup(`k:${hash.toString('base64')}`, () => options.directory.cellOfKey(hash));
    }
    const tenantId = unverifiedTenantClaim(token);
    return tenantId ? lookup(`t:${tenantId}`, () => options.directory.cellOfTenant(tenantId)) : null;
  };

  const server = http.createServer((req, res) => {
    const requestId = REQUEST_ID.test(String(req.headers['x-request-id'] ?? ''))
      ? String(req.headers['x-request-id'])
      : randomUUID();
    if (req.url === '/health/live') return void json(res, 200, { status: 'ok' });
    if (req.url === '/health/ready') {
      options.directory.ping().then(
        () => json(res, 200, { status: 'ok' }),
        () => json(res, 503, { status: 'error', directory: 'down' }),
      );
      return;
    }
    // A refresh carries no credential but its refresh token, which names the tenant: read the body.
    const refresh = req.method === 'POST' && req.url?.split('?')[0] === '/v1/customer-sessions/refresh';
    const placed = refresh
      ? readBody(req).then(async (body) => {
          const tenantId = body && refreshTokenTenant(body);
          const cell = tenantId
            ? await lookup(`t:${tenantId}`, () => options.directory.cellOfTenant(tenantId))
            : null;
          return { cell, body };
        })
      : cellOf(req.headers.authorization).then((cell) => ({ cell, body: undefined }));
    placed.then(
      ({ cell: found, body }) => {
        const cell = found && options.cells.has(found) ? found : options.defaultCell;
        forward(req, res, cell, requestId, body);
      },
      // Without the directory no request can be placed: all are refused, cleanly.
      () => unavailable(res, requestId, 'The tenant directory cannot be reached; please retry.'),
    );
  });

  /** Sends the request on to `cell`'s gateway: its body as read (`body`), or streamed. */
  function forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    cell: string,
    requestId: string,
    body?: Buffer | null,
  ) {
    routed.set(cell, routed.get(cell)! + 1);
    const target = options.cells.get(cell)!;
    const headers: http.OutgoingHttpHeaders = { 'x-request-id': requestId };
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name) && name !== 'x-request-id' && value !== undefined) headers[name] = value;
    }
    // The client's address for a gateway that trusts its proxy (HTTP_TRUST_PROXY): the router is one.
    const forwardedFor = req.headers['x-forwarded-for'];
    const client = req.socket.remoteAddress ?? 'unknown';
    headers['x-forwarded-for'] = forwardedFor ? `${String(forwardedFor)}, ${client}` : client;
    const upstream = http.request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent: agents.get(cell),
      },
      (answer) => {
        const out: http.OutgoingHttpHeaders = { 'x-tally-cell': cell };
        for (const [name, value] of Object.entries(answer.headers)) {
          if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      // Nothing reached the client yet: the cell is down or refused the connection. A request
      // that may have reached the cell is retried by the client under its Idempotency-Key.
      if (!res.headersSent)
        unavailable(res, requestId, `Cell ${cell} cannot be reached; please retry.`, cell);
      else res.destroy();
    });
    // A client gone before its answer: the cell's request is abandoned too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (body) upstream.end(body);
    else req.pipe(upstream);
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

/**
 * The `tid` claim of a JWT, read without checking its signature: it only chooses the cell, whose
 * gateway verifies the token (a forged one is routed somewhere and refused there).
 */
export function unverifiedTenantClaim(token: string): string | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1].length > 4096) return null;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { tid?: unknown };
    return typeof claims.tid === 'string' && hasIdPrefix(claims.tid, 'ten') ? claims.tid : null;
  } catch {
    return null;
  }
}

const MAX_REFRESH_BODY = 16 * 1024;

/** The request's body, whole; null when it is larger than a refresh's ever is (then not read on). */
function readBody(req: http.IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REFRESH_BODY) {
        req.off('data', onData);
        req.pause();
        req.unshift(Buffer.concat([...chunks, chunk])); // stream the rest on, as read so far
        return resolve(null);
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
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

/** 503 `service_unavailable` problem+json with Retry-After, as every Tally app answers it. */
function unavailable(res: http.ServerResponse, requestId: string, detail: string, cell?: string): void {
  const body = {
    type: 'https://tally.dev/problems/service_unavailable',
    title: 'Service Unavailable',
    status: 503,
    detail,
    code: 'service_unavailable',
    requestId,
  };
  res
    .writeHead(503, {
      'content-type': 'application/problem+json',
      'retry-after': '1',
      'x-request-id': requestId,
      ...(cell ? { 'x-tally-cell': cell } : {}),
    })
    .end(JSON.stringify(body));
}
