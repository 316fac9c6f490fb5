/**
 * At most `limit` tasks at once; the rest wait their turn in memory, holding no connection. For
 * work that serialises on hot rows anyway (a tenant's revenue account for usage, a flash sale's
 * product for orders, a wallet a worker batch holds): letting every request or delivery open a
 * database transaction would only exhaust the pool — and starve the work that needs no such lock
 * — and run statements into their timeout. With `maxWaitMs`, a task that waited that long for its
 * place gives up with GateTimeoutError (a request: 503 with Retry-After, as when the pool has no
 * connection free), rather than queueing without end behind slow ones.
 */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly maxWaitMs?: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await this.place();
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** Waits for a running task to hand its place over (the place stays counted in `active`). */
  private place(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const take = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiting.push(take);
      const timer =
        this.maxWaitMs === undefined
          ? undefined
          : setTimeout(() => {
              const at = this.waiting.indexOf(take);
              if (at < 0) return;
              this.waiting.splice(at, 1);
              reject(new GateTimeoutError(this.maxWaitMs!));
            }, this.maxWaitMs);
    });
  }
}

/** No place at a gate within its longest wait: the service is saturated for now (503, retry). */
export class GateTimeoutError extends Error {
  readonly code = 'GATE_TIMEOUT';

  constructor(waitedMs: number) {
    super(`no place free at the gate within ${waitedMs} ms`);
  }
}
