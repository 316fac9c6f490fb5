import { setTimeout as sleep } from 'node:timers/promises';

/** What a client asked for and the gateway accepted (202): the test's own record of the truth. */
export interface Intent {
  key: string;
  type: 'deposit' | 'transfer' | 'withdrawal';
  amount: number;
  from?: string;
  /** Where the money goes; none for a withdrawal (it leaves Tally). */
  to?: string;
}

export interface LoadStats {
  /** HTTP attempts, retries included. */
  attempts: number;
  /** Clean refusals (503 problem+json) a client retried. */
  unavailable: number;
  /** 409: the same key still in flight (after a client-side timeout); retried. */
  inFlight: number;
  /** 202 answers replayed from the key's stored answer (Idempotent-Replayed: true). */
  replayed: number;
  /** Connection refused or reset (an app killed); retried. */
  networkErrors: number;
  /** No answer within the client's timeout: a hang. */
  timeouts: number;
  /** Anything else (a 500, a 400 …): never retried, always a failure of the scenario. */
  unexpected: string[];
}

export interface LoadOptions {
  clients: number;
  /** Pause of each client between two requests (keeps the load moderate on a small machine). */
  pauseMs: number;
  /** Longest wait for one answer before the client counts a hang and retries. */
  requestTimeoutMs: number;
  /** Longest a client keeps retrying one request before it gives up (the scenario then fails). */
  giveUpMs: number;
  /**
   * A second gateway: every request also goes to it at the same moment under the same key, as a
   * client whose retry lands on another replica while the first attempt is still under way.
   */
  mirror?: () => string;
  /** Share of requests that are withdrawals (paid out through the provider when the worker has one). */
  withdrawals: number;
}

const DEFAULTS: LoadOptions = {
  clients: 6,
  pauseMs: 25,
  requestTimeoutMs: 5_000,
  giveUpMs: 60_000,
  withdrawals: 0,
};

/**
 * Well-behaved clients posting deposits and transfers (and withdrawals, if asked) through the gateway's HTTP API, each under
 * its own Idempotency-Key, retried with the same key after a 503, a 409 or a dropped connection
 * until the gateway answers 202. So every request ends accepted exactly once, and any transaction
 * the database holds that no client saw accepted is a duplicate.
 */
export class LoadGenerator {
  readonly accepted = new Map<string, Intent>();
  readonly stats: LoadStats = {
    attempts: 0,
    unavailable: 0,
    inFlight: 0,
    replayed: 0,
    networkErrors: 0,
    timeouts: 0,
    unexpected: [],
  };
  private readonly options: LoadOptions;
  private running = false;
  private clients: Promise<void>[] = [];
  private sequence = 0;

  constructor(
    private readonly gatewayUrl: () => string,
    private readonly apiKey: string,
    private readonly accounts: string[],
    private readonly tag: string,
    options: Partial<LoadOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  start(): void {
    this.running = true;
    this.clients = Array.from({ length: this.options.clients }, () => this.client());
  }

  /** Stops issuing new requests; those under way are retried until accepted. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.clients);
  }

  /** One request, retried until the gateway accepts it; resolves with the transaction id. */
  async submit(intent: Omit<Intent, 'key'>): Promise<string | undefined> {
    const key = `${this.tag}-${this.sequence++}`;
    const mirror = this.options.mirror;
    if (!mirror) return this.send(this.gatewayUrl, intent, key);
    // Both gateways must answer with the same transaction: one accepted it, the other replays it.
    const [first, second] = await Promise.all([
      this.send(this.gatewayUrl, intent, key),
      this.send(mirror, intent, key),
    ]);
    if (first !== second) this.stats.unexpected.push(`${key} answered as ${first} and as ${second}`);
    return first;
  }

  private async send(
    gatewayUrl: () => string,
    intent: Omit<Intent, 'key'>,
    key: string,
  ): Promise<string | undefined> {
    const body = {
      type: intent.type,
      sourceAccountId: intent.from,
      destinationAccountId: intent.to,
      amount: intent.amount,
      currency: 'USD',
    };
    const deadline = Date.now() + this.options.giveUpMs;
    while (Date.now() < deadline) {
      this.stats.attempts++;
      let status: number;
      let text: string;
      let replayed: boolean;
      try {
        const res = await fetch(`${gatewayUrl()}/v1/transactions`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.apiKey}`,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        });
        status = res.status;
        replayed = res.headers.get('idempotent-replayed') === 'true';
        text = await res.text();
      } catch (error) {
        if ((error as Error).name === 'TimeoutError') this.stats.timeouts++;
        else this.stats.networkErrors++;
        await sleep(100);
        continue;
      }
      if (status === 202) {
        if (replayed) this.stats.replayed++;
        const id = (JSON.parse(text) as { id: string }).id;
        const earlier = this.accepted.get(id);
        if (earlier && earlier.key !== key) this.stats.unexpected.push(`${id} accepted for two keys`);
        this.accepted.set(id, { ...intent, key });
        return id;
      }
      if (status === 503 && /"code":"service_unavailable"/.test(text)) {
        this.stats.unavailable++;
        await sleep(200);
        continue;
      }
      if (status === 409) {
        this.stats.inFlight++;
        await sleep(100);
        continue;
      }
      this.stats.unexpected.push(`${status} ${text.slice(0, 300)}`);
      return undefined;
    }
    this.stats.unexpected.push(`${key} not accepted within ${this.options.giveUpMs} ms`);
    return undefined;
  }

  private async client(): Promise<void> {
    while (this.running) {
      const to = pick(this.accounts);
      const draw = Math.random();
      if (draw < this.options.withdrawals) {
        // Small: most are paid out; now and then one fails for want of funds.
        await this.submit({ type: 'withdrawal', from: to, amount: 1 + Math.floor(Math.random() * 500) });
      } else if (draw < this.options.withdrawals + (1 - this.options.withdrawals) * 0.7) {
        await this.submit({ type: 'deposit', to, amount: 1 + Math.floor(Math.random() * 500) });
      } else {
        const from = pick(this.accounts.filter((a) => a !== to));
        // Large enough that some transfers fail for want of funds: the worker's business path.
        await this.submit({ type: 'transfer', from, to, amount: 1 + Math.floor(Math.random() * 3_000) });
      }
      await sleep(this.options.pauseMs);
    }
  }
}

function pick<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}
