import { PROVIDER_PAYOUT_STATUSES, type ProviderPayoutStatus } from '#domain';
import type { PayoutProvider, PayoutRequest, ProviderPayout, SubmitResult } from './payout-provider.js';
import { ProviderUnavailableError } from './payout-provider.js';

export interface HttpPayoutProviderOptions {
  url: string;
  apiKey: string | undefined;
  timeoutMs: number;
}

/**
 * The 4xx answers that refuse the payout itself — its request is invalid (400), cannot be paid
 * (402) or is refused (422) — and so are final. Every other 4xx says nothing about whether the
 * payout will be made: 401/403 a credential refused, 404 a wrong address, 409 the key still being
 * processed, 408/425/429 "not now". Taking one of those for a refusal would release funds the
 * provider may still pay out.
 */
const REFUSALS = new Set([400, 402, 422]);

/**
 * The provider's HTTP API: `POST /payouts` with an Idempotency-Key, `GET /payouts/{id}`,
 * `GET /payouts?since=`. Every call is bounded by `timeoutMs`; a refusal (REFUSALS) is `refused`,
 * anything else that is not a 2xx — a timeout, a 5xx, another 4xx, a connection error — is
 * `unavailable` (the caller retries with the same key).
 */
export class HttpPayoutProvider implements PayoutProvider {
  readonly name: string;

  constructor(private readonly options: HttpPayoutProviderOptions) {
    this.name = new URL(options.url).host;
  }

  async submit(request: PayoutRequest): Promise<SubmitResult> {
    let response: Response;
    try {
      response = await this.call('POST', '/payouts', {
        headers: { 'idempotency-key': request.idempotencyKey },
        body: JSON.stringify({
          amount: request.amount.toString(),
          currency: request.currency,
          reference: request.reference,
        }),
      });
    } catch (error) {
      return { kind: 'unavailable', reason: (error as Error).message };
    }
    const text = await response.text().catch(() => '');
    if (response.status >= 200 && response.status < 300) {
      const payout = this.payoutOf(text);
      if (!payout) return { kind: 'unavailable', reason: `unreadable ${response.status} answer` };
      return { kind: 'accepted', payout };
    }
    if (REFUSALS.has(response.status)) {
      return {
        kind: 'refused',
        statusCode: response.status,
        reason: `HTTP ${response.status} ${text.slice(0, 200)}`,
      };
    }
    return { kind: 'unavailable', reason: `HTTP ${response.status}` };
  }

  async find(providerPayoutId: string): Promise<ProviderPayout | null> {
    const response = await this.read(`/payouts/${encodeURIComponent(providerPayoutId)}`);
    if (response === null) return null;
    const payout = this.payoutOf(response);
    if (!payout) throw new ProviderUnavailableError('unreadable payout');
    return payout;
  }

  async report(since: Date): Promise<ProviderPayout[]> {
    const text = await this.read(`/payouts?since=${encodeURIComponent(since.toISOString())}`);
    const data = (JSON.parse(text ?? '{}') as { data?: unknown }).data;
    if (!Array.isArray(data)) throw new ProviderUnavailableError('unreadable report');
    return data.map((p) => this.payoutOf(JSON.stringify(p))).filter((p): p is ProviderPayout => p !== null);
  }

  /** A GET's body; null for a 404; throws ProviderUnavailableError otherwise. */
  private async read(path: string): Promise<string | null> {
    let response: Response;
    try {
      response = await this.call('GET', path, {});
    } catch (error) {
      throw new ProviderUnavailableError((error as Error).message);
    }
    const text = await response.text().catch(() => '');
    if (response.status === 404) return null;
    if (response.status !== 200) throw new ProviderUnavailableError(`HTTP ${response.status}`);
    return text;
  }

  private call(method: string, path: string, init: { headers?: Record<string, string>; body?: string }) {
    return fetch(new URL(path, this.options.url), {
      method,
      headers: {
        accept: 'application/json',
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        ...init.headers,
      },
      body: init.body,
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
  }

  private payoutOf(text: string): ProviderPayout | null {
    try {
      const p = JSON.parse(text) as Partial<ProviderPayout>;
      if (typeof p.id !== 'string' || typeof p.status !== 'string') return null;
      if (!PROVIDER_PAYOUT_STATUSES.includes(p.status as ProviderPayoutStatus)) return null;
      return {
        id: p.id,
        reference: typeof p.reference === 'string' ? p.reference : null,
        amount: String(p.amount),
        currency: String(p.currency),
        status: p.status,
        updatedAt: typeof p.updatedAt === 'string' ? p.updatedAt : undefined,
      };
    } catch {
      return null;
    }
  }
}
