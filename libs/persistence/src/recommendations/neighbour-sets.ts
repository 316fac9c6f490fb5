import { Redis } from 'ioredis';
import type { Neighbour, NeighbourList } from './pair.repository.js';

/**
 * Each product's top neighbours as a Redis sorted set (member: the other product, score: the
 * count), under `<prefix>ab:<productId>`. Written whole by the job after PostgreSQL has the counts;
 * read by the gateway. Any failure answers null (the caller asks PostgreSQL): Redis is a copy.
 */
export class NeighbourSets {
  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Neighbour sets on the Redis at `url` (commands fail after `timeoutMs`, never queue). */
  static connect(url: string, prefix: string, timeoutMs: number): NeighbourSets {
    const redis = new Redis(url, {
      enableOfflineQueue: false, // disconnected ⇒ fail at once and read PostgreSQL, not queue
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 1000),
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
      lazyConnect: false,
    });
    redis.on('error', () => undefined); // surfaces on the commands; the connection retries by itself
    return new NeighbourSets(redis, prefix);
  }

  private key(productId: string): string {
    return `${this.prefix}ab:${productId}`;
  }

  /** Replaces each product's set with its list (an empty list removes the set). */
  async write(lists: NeighbourList[]): Promise<void> {
    const tx = this.redis.multi();
    for (const { productId, neighbours } of lists) {
      tx.del(this.key(productId));
      if (neighbours.length > 0) {
        tx.zadd(this.key(productId), ...neighbours.flatMap((n) => [n.count.toString(), n.productId]));
      }
    }
    const results = await tx.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('Redis transaction discarded');
  }

  /** The product's top `k` neighbours, or null when Redis has no set for it or cannot answer. */
  async read(productId: string, k: number): Promise<Neighbour[] | null> {
    try {
      const flat = await this.redis.zrange(this.key(productId), 0, k - 1, 'REV', 'WITHSCORES');
      if (flat.length === 0) return null;
      const neighbours: Neighbour[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        neighbours.push({ productId: flat[i], count: BigInt(flat[i + 1]) });
      }
      return neighbours;
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
