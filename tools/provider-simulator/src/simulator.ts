import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { providerSignature, type ProviderPayoutStatus } from '#domain';

/**
 * How the simulated provider behaves; every rate is a probability in [0, 1], drawn per call.
 * `byAmount` overrides any of them for payouts of one amount (minor units), so a test can pick
 * each payout's fate while sharing one simulator.
 */
export interface SimulatorBehaviour {
  /** Added to every answer. */
  latencyMs: number;
  /** POST /payouts answers 503 without taking the payout. */
  errorRate: number;
  /** POST /payouts takes the payout, then never answers (the caller times out). */
  timeoutRate: number;
  /** POST /payouts refuses the payout (422 `payout_refused`); the key keeps that answer. */
  refuseRate: number;
  /** The first this many POSTs with a key are answered 503 without taking the payout. */
  failFirstCalls: number;
  /**
   * POST /payouts answers this status without taking the payout (0: off) — a 4xx that says
   * nothing about the payout itself, as 401 for a rotated credential or 404 for a wrong path.
   */
  answerStatus: number;
  /**
   * A repeated POST whose payout is still pending answers 409 `idempotency_key_in_use`, as many
   * providers do while the first request is being processed, instead of the stored payout.
   */
  conflictWhileProcessing: boolean;
  /** A taken payout is recorded for its amount plus this (a provider paying the wrong amount). */
  amountDelta: number;
  /** A taken payout is returned instead of paid. */
  returnRate: number;
  /** Time from taking a payout to its outcome (paid or returned). */
  settleAfterMs: number;
  /** Send webhooks for outcomes (off: the caller must poll). */
  webhooks: boolean;
  /** Each webhook is sent twice. */
  duplicateWebhooks: boolean;
  /** Webhooks are held back and sent in a shuffled order (an extra random delay up to 1 s). */
  outOfOrderWebhooks: boolean;
  /** The simulator is down: every request is answered 503 (the control routes excepted). */
  down: boolean;
  byAmount: Record<string, Partial<Omit<SimulatorBehaviour, 'byAmount'>>>;
}

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** When set, POST and GET /payouts require `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Where outcome webhooks go (e.g. the gateway's /v1/provider-events). */
  webhookUrl?: string;
  /** The shared secret webhooks are signed with. */
  webhookSecret?: string;
  behaviour?: Partial<SimulatorBehaviour>;
}

export interface SimulatedPayout {
  id: string;
  idempotencyKey: string;
  reference: string | null;
  amount: string;
  currency: string;
  status: ProviderPayoutStatus;
  createdAt: string;
  updatedAt: string;
}

export interface SimulatorStats {
  /** Payouts taken (money sent), in all. */
  payouts: number;
  /** Per idempotency key: payouts taken under it (never more than 1) and POSTs made with it. */
  byKey: Record<string, { payouts: number; calls: number }>;
  webhooksSent: number;
}

export const DEFAULT_BEHAVIOUR: SimulatorBehaviour = {
  latencyMs: 0,
  errorRate: 0,
  timeoutRate: 0,
  refuseRate: 0,
  failFirstCalls: 0,
  answerStatus: 0,
  conflictWhileProcessing: false,
  amountDelta: 0,
  returnRate: 0,
  settleAfterMs: 200,
  webhooks: true,
  duplicateWebhooks: false,
  outOfOrderWebhooks: false,
  down: false,
  byAmount: {},
};

export interface ProviderSimulator {
  url: string;
  stats(): SimulatorStats;
  payout(id: string): SimulatedPayout | undefined;
  setBehaviour(behaviour: Partial<SimulatorBehaviour>): void;
  /** Where webhooks go from now on (a receiver started after the simulator). */
  setWebhookUrl(url: string): void;
  close(): Promise<void>;
}

const BODY_LIMIT = 64 * 1024;

/**
 * A payment provider's payout API, in memory, as a real HTTP server:
 *
 * - `POST /payouts` `{ amount, currency, reference? }` with `Idempotency-Key` → 201 payout (200 with
 *   the same payout for a key seen before: a key is paid at most once); 422 refused; 409 when the
 *   key was used for another body; 503 / no answer as the behaviour says.
 * - `GET /payouts/{id}` → the payout; `GET /payouts?since=<ISO time>` → `{ data }`: payouts
 *   changed since then (the report reconciliation compares with).
 * - Outcomes (`payout.paid`, `payout.returned`) as webhooks signed with the shared secret.
 * - `GET /_sim/stats`, `PUT /_sim/behaviour` (JSON, merged), `GET /_sim/behaviour`: for tests and
 *   whoever runs it by hand.
 */
export async function startProviderSimulator(options: SimulatorOptions = {}): Promise<ProviderSimulator> {
  let behaviour: SimulatorBehaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
  const payouts = new Map<string, SimulatedPayout>();
  const byKey = new Map<string, { payoutId: string | null; fingerprint: string; refused: boolean }>();
  const counts = new Map<string, { payouts: number; calls: number }>();
  const timers = new Set<NodeJS.Timeout>();
  const hanging = new Set<ServerResponse>();
  let webhooksSent = 0;
  let closed = false;
  let webhookUrl = options.webhookUrl;

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) fn();
    }, ms);
    timers.add(timer);
  };
  const rules = (amount: string): SimulatorBehaviour => ({ ...behaviour, ...behaviour.byAmount[amount] });
  const now = () => new Date().toISOString();

  const sendWebhook = (body: string, attempt = 1): void => {
    if (!webhookUrl) return;
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = options.webhookSecret ? providerSignature(options.webhookSecret, timestamp, body) : '';
    const request = http.request(
      webhookUrl,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'provider-signature': signature },
        timeout: 5000,
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          webhooksSent++;
          if ((response.statusCode ?? 500) >= 500 && attempt < 5)
            later(200 * attempt, () => sendWebhook(body, attempt + 1));
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => {
      if (attempt < 5) later(200 * attempt, () => sendWebhook(body, attempt + 1));
    });
    request.end(body);
  };

  const announce = (payout: SimulatedPayout, rule: SimulatorBehaviour) => {
    if (!rule.webhooks) return;
    const body = JSON.stringify({
      id: `pevt_${randomUUID()}`,
      type: `payout.${payout.status}`,
      createdAt: now(),
      data: { ...payout },
    });
    const copies = rule.duplicateWebhooks ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = rule.outOfOrderWebhooks ? Math.floor(Math.random() * 1000) : 0;
      later(delay, () => sendWebhook(body));
    }
  };

  const settle = (payout: SimulatedPayout, rule: SimulatorBehaviour) => {
    later(rule.settleAfterMs, () => {
      payout.status = Math.random() < rule.returnRate ? 'returned' : 'paid';
      payout.updatedAt = now();
      announce(payout, rule);
    });
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const createPayout = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
      return answer(res, 400, { code: 'idempotency_key_required' });
    }
    let input: { amount?: unknown; currency?: unknown; reference?: unknown };
    try {
      input = JSON.parse(raw) as typeof input;
    } catch {
      return answer(res, 400, { code: 'malformed_json' });
    }
    const amount = typeof input.amount === 'number' ? String(input.amount) : input.amount;
    if (typeof amount !== 'string' || !/^[1-9]\d{0,18}$/.test(amount) || typeof input.currency !== 'string') {
      return answer(res, 400, { code: 'invalid_payout' });
    }
    const count = counts.get(key) ?? { payouts: 0, calls: 0 };
    count.calls++;
    counts.set(key, count);
    const rule = rules(amount);
    if (Math.random() < rule.errorRate || count.calls <= rule.failFirstCalls) {
      return answer(res, 503, { code: 'temporarily_unavailable' });
    }
    if (rule.answerStatus > 0) return answer(res, rule.answerStatus, { code: 'simulated_answer' });
    const fingerprint = `${amount}:${input.currency}:${String(input.reference ?? '')}`;
    const seen = byKey.get(key);
    if (seen) {
      if (seen.fingerprint !== fingerprint) return answer(res, 409, { code: 'idempotency_key_reused' });
      if (seen.refused) return answer(res, 422, { code: 'payout_refused' });
      const taken = payouts.get(seen.payoutId!)!;
      if (rule.conflictWhileProcessing && taken.status === 'pending') {
        return answer(res, 409, { code: 'idempotency_key_in_use' });
      }
      return answer(res, 200, taken);
    }
    if (Math.random() < rule.refuseRate) {
      byKey.set(key, { payoutId: null, fingerprint, refused: true });
      return answer(res, 422, { code: 'payout_refused' });
    }
    const payout: SimulatedPayout = {
      id: `po_${randomUUID()}`,
      idempotencyKey: key,
      reference: typeof input.reference === 'string' ? input.reference : null,
      amount: (BigInt(amount) + BigInt(rule.amountDelta)).toString(),
      currency: input.currency,
      status: 'pending',
      createdAt: now(),
      updatedAt: now(),
    };
    payouts.set(payout.id, payout);
    byKey.set(key, { payoutId: payout.id, fingerprint, refused: false });
    count.payouts++;
    settle(payout, rule);
    // Taken, but the answer is lost: the caller must retry with the same key.
    if (Math.random() < rule.timeoutRate) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    answer(res, 201, payout);
  };

  const route = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (url.pathname === '/_sim/stats' && req.method === 'GET') {
      return answer(res, 200, {
        payouts: payouts.size,
        byKey: Object.fromEntries(counts),
        webhooksSent,
      } satisfies SimulatorStats);
    }
    if (url.pathname === '/_sim/behaviour') {
      if (req.method === 'PUT') {
        try {
          behaviour = { ...behaviour, ...(JSON.parse(raw) as Partial<SimulatorBehaviour>) };
        } catch {
          return answer(res, 400, { code: 'malformed_json' });
        }
      }
      return answer(res, 200, behaviour);
    }
    if (behaviour.down) return answer(res, 503, { code: 'down' });
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return answer(res, 401, { code: 'unauthorized' });
    }
    if (url.pathname === '/payouts' && req.method === 'POST') return createPayout(req, res, raw);
    if (url.pathname === '/payouts' && req.method === 'GET') {
      const since = Date.parse(url.searchParams.get('since') ?? '1970-01-01T00:00:00Z');
      if (Number.isNaN(since)) return answer(res, 400, { code: 'invalid_since' });
      const data = [...payouts.values()].filter((p) => Date.parse(p.updatedAt) >= since);
      return answer(res, 200, { data });
    }
    const match = /^\/payouts\/([^/]+)$/.exec(url.pathname);
    if (match && req.method === 'GET') {
      const payout = payouts.get(decodeURIComponent(match[1]));
      return payout ? answer(res, 200, payout) : answer(res, 404, { code: 'payout_not_found' });
    }
    answer(res, 404, { code: 'not_found' });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > BODY_LIMIT) return answer(res, 413, { code: 'too_large' });
      const raw = Buffer.concat(chunks).toString('utf8');
      const control = req.url?.startsWith('/_sim/');
      const delay = control ? 0 : behaviour.latencyMs;
      const go = () => route(req, res, raw);
      if (delay > 0) later(delay, go);
      else go();
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    stats: () => ({ payouts: payouts.size, byKey: Object.fromEntries(counts), webhooksSent }),
    payout: (id) => payouts.get(id),
    setBehaviour: (next) => {
      behaviour = { ...behaviour, ...next };
    },
    setWebhookUrl: (url) => {
      webhookUrl = url;
    },
    close: async () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
