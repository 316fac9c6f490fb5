/**
 * At most `limit` tasks at once; the rest wait their turn in memory. For commands that serialise
 * on one hot row anyway (a tenant's revenue account for usage, a flash sale's product for
 * orders): letting every delivery (up to the prefetch) open a database transaction would only
 * exhaust the pool and run statements into their timeout.
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
