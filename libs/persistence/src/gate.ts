/**
 * At most `limit` tasks at once; the rest wait their turn in memory, holding no connection. For
 * work that serialises on hot rows anyway (a tenant's revenue account for usage, a flash sale's
 * product for orders, a wallet a worker batch holds): letting every request or delivery open a
 * database transaction would only exhaust the pool — and starve the work that needs no such lock
 * — and run statements into their timeout.
 */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
