import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { listenToProductWrites, type ProductWriteListener, type ProductWrites } from './product-writes.js';

/** The two caches: one product (`GET /v1/products/{id}`) and one page of a list (`GET /v1/products`). */
export type CacheName = 'product' | 'list';

/** What the store tells its owner (metrics); every name is bounded. */
export interface CacheEvents {
  error(cache: CacheName, operation: 'read' | 'fill' | 'invalidate'): void;
  fillRefused(cache: CacheName): void;
}

/** Where one cached value lives: its entry and the guards it is valid under. */
export interface CacheSlot {
  cache: CacheName;
  /** Version (product) or generation (tenant's lists): bumped by every write. */
  version: string;
  /** Writes in progress: while present, nothing fills. */
  writing: string;
  entry: string;
}

/**
 * A read: the entry's text when it is valid, else the version seen (null: none yet) for the fill,
 * and whether a write of the key is in progress (its COMMIT may have happened: a load begun
 * before now may predate it, so none is to be shared).
 */
export type CacheRead =
  { hit: true; text: string } | { hit: false; version: string | null; writing: boolean };

/** `bump(key)`: +1, or a fresh time-based start when the key is gone (never an old value again). */
const BUMP = `
local function bump(key)
  if redis.call('EXISTS', key) == 1 then redis.call('INCR', key) else redis.call('SET', key, ARGV[3]) end
  redis.call('PEXPIRE', key, ARGV[2])
end
`;

/**
 * Before COMMIT. KEYS: per tenant [generation, writing], then per product [version, writing,
 * entry]…; ARGV: [writing TTL ms, version TTL ms, fresh version]. Every guard moves, every
 * product entry goes, and nothing may fill until the matching END.
 */
const BEGIN = `${BUMP}
for i = 1, #KEYS do
  local kind = string.sub(KEYS[i], -2)
  if kind == ':v' then bump(KEYS[i])
  elseif kind == ':w' then redis.call('INCR', KEYS[i]); redis.call('PEXPIRE', KEYS[i], ARGV[1])
  else redis.call('DEL', KEYS[i]) end
end
return 1
`;

/**
 * After COMMIT (or rollback). Same KEYS; ARGV[4] = '1' when BEGIN ran (its writing marks come
 * off). The guards move again, so a value loaded before the commit cannot fill after it.
 */
const END = `${BUMP}
for i = 1, #KEYS do
  local kind = string.sub(KEYS[i], -2)
  if kind == ':v' then bump(KEYS[i])
  elseif kind == ':w' then
    if ARGV[4] == '1' then
      if redis.call('DECR', KEYS[i]) <= 0 then redis.call('DEL', KEYS[i]) end
    end
  else redis.call('DEL', KEYS[i]) end
end
return 1
`;

/**
 * The compare-and-set fill. KEYS: [version, writing, entry]; ARGV: [version the reader saw ('' for
 * none), value, TTL ms, version TTL ms, fresh version]. Refused (0) while a write is in progress or
 * when the version moved since the read: the value may predate the write.
 */
const FILL = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local current = redis.call('GET', KEYS[1])
if not current then
  if ARGV[1] ~= '' then return 0 end
  current = ARGV[5]
  redis.call('SET', KEYS[1], current, 'PX', ARGV[4])
elseif current ~= ARGV[1] then
  return 0
else
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
redis.call('SET', KEYS[3], current .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1
`;

type Scripts = {
  tallyCacheBegin(...args: (string | number)[]): Promise<number>;
  tallyCacheEnd(...args: (string | number)[]): Promise<number>;
  tallyCacheFill(...args: (string | number)[]): Promise<number>;
};

/** Keys no bigger than a product id or a hash: at most this many products per retried invalidation. */
const MAX_PENDING = 100_000;
/** A write's "in progress" mark outlives any COMMIT; a crashed writer's mark lapses after it. */
const WRITING_TTL_MS = 10_000;

/**
 * Cache-aside in Redis for products and pages of product lists (docs/architecture.md, "Product
 * cache"). Each value is stored with the version (product) or generation (tenant's lists) it was
 * read under; every write moves those guards before and after its COMMIT, and a fill is a
 * compare-and-set that refuses to write when they moved. Commands time out fast and never queue;
 * the callers then read PostgreSQL. Invalidations that failed are retried until Redis answers,
 * and until then this process neither reads nor fills the cache.
 */
export class ProductCacheStore implements ProductWriteListener {
  private readonly log = new Logger('ProductCache');
  private readonly pending: ProductWrites = new Map();
  private pendingCount = 0;
  private retryTimer?: NodeJS.Timeout;
  private lastLoggedAt = 0;
  private closed = false;

  private constructor(
    private readonly redis: Redis & Scripts,
    private readonly prefix: string,
    /** Values live this long (ms) ± 10 % jitter; versions 3× longer, plus a minute. */
    readonly ttlMs: number,
    private readonly events: CacheEvents,
  ) {}

  /** A store on the Redis at `url` (commands fail after `timeoutMs`, never queue behind an outage). */
  static connect(
    url: string,
    options: { prefix: string; timeoutMs: number; ttlSeconds: number; events: CacheEvents },
  ): ProductCacheStore {
    const redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(options.timeoutMs, 1000),
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    redis.on('error', () => undefined); // surfaces on the commands; the connection retries by itself
    redis.defineCommand('tallyCacheBegin', { lua: BEGIN });
    redis.defineCommand('tallyCacheEnd', { lua: END });
    redis.defineCommand('tallyCacheFill', { numberOfKeys: 3, lua: FILL });
    return new ProductCacheStore(
      redis as Redis & Scripts,
      `${options.prefix}pc:`,
      options.ttlSeconds * 1000,
      options.events,
    );
  }

  /** True while invalidations this process could not deliver wait: the cache is not to be used. */
  get degraded(): boolean {
    return this.pendingCount > 0;
  }

  /** Products whose invalidation waits for Redis to come back. */
  get pendingInvalidations(): number {
    return this.pendingCount;
  }

  productSlot(tenantId: string, productId: string): CacheSlot {
    const base = `${this.prefix}p:${tenantId}:${productId}`;
    return { cache: 'product', version: `${base}:v`, writing: `${base}:w`, entry: `${base}:e` };
  }

  /** A page of the tenant's lists, `query` being a digest of everything that shapes the page. */
  listSlot(tenantId: string, query: string): CacheSlot {
    const tenant = `${this.prefix}t:${tenantId}`;
    return {
      cache: 'list',
      version: `${tenant}:v`,
      writing: `${tenant}:w`,
      entry: `${this.prefix}l:${tenantId}:${query}:e`,
    };
  }

  /** The entry when valid (stored under the current version), else a miss with the version seen. */
  async read(slot: CacheSlot): Promise<CacheRead> {
    const [version, writing, stored] = await this.redis.mget(slot.version, slot.writing, slot.entry);
    if (version !== null && stored !== null && writing === null) {
      const bar = stored.indexOf('|');
      if (stored.slice(0, bar) === version) return { hit: true, text: stored.slice(bar + 1) };
    }
    return { hit: false, version, writing: writing !== null };
  }

  /** Stores `text` unless the slot's version moved since `read` answered `seen`, or a write runs. */
  async fill(slot: CacheSlot, seen: string | null, text: string): Promise<boolean> {
    const ttl = Math.round(this.ttlMs * (0.9 + Math.random() * 0.2));
    const filled = await this.redis.tallyCacheFill(
      slot.version,
      slot.writing,
      slot.entry,
      seen ?? '',
      text,
      ttl,
      this.versionTtlMs(),
      freshVersion(),
    );
    if (filled !== 1) this.events.fillRefused(slot.cache);
    return filled === 1;
  }

  async beforeCommit(writes: ProductWrites): Promise<boolean> {
    if (this.closed) return false;
    try {
      const keys = this.keysOf(writes);
      await this.redis.tallyCacheBegin(
        keys.length,
        ...keys,
        WRITING_TTL_MS,
        this.versionTtlMs(),
        freshVersion(),
      );
      return true;
    } catch (error) {
      this.failed('invalidate', error);
      return false;
    }
  }

  async afterCommit(writes: ProductWrites, _committed: boolean, began: unknown): Promise<void> {
    if (this.closed) return;
    try {
      const keys = this.keysOf(writes);
      await this.redis.tallyCacheEnd(
        keys.length,
        ...keys,
        WRITING_TTL_MS,
        this.versionTtlMs(),
        freshVersion(),
        began === true ? '1' : '0',
      );
    } catch (error) {
      this.failed('invalidate', error);
      this.remember(writes);
    }
  }

  /** After the HTTP server and consumers closed: the last writes have invalidated. */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.redis.disconnect();
  }

  private versionTtlMs(): number {
    return this.ttlMs * 3 + 60_000;
  }

  private keysOf(writes: ProductWrites): string[] {
    const keys: string[] = [];
    for (const [tenantId, ids] of writes) {
      const list = this.listSlot(tenantId, '');
      keys.push(list.version, list.writing);
      for (const id of ids) {
        const slot = this.productSlot(tenantId, id);
        keys.push(slot.version, slot.writing, slot.entry);
      }
    }
    return keys;
  }

  /** Keeps a failed invalidation to retry; past MAX_PENDING products the rest lapse with their TTL. */
  private remember(writes: ProductWrites): void {
    for (const [tenantId, ids] of writes) {
      let known = this.pending.get(tenantId);
      if (!known) this.pending.set(tenantId, (known = new Set()));
      for (const id of ids) {
        if (known.has(id)) continue;
        if (this.pendingCount >= MAX_PENDING) break;
        known.add(id);
        this.pendingCount++;
      }
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retry();
    }, 500);
    this.retryTimer.unref();
  }

  /** Delivers the invalidations that failed; the cache is used again once all went through. */
  private async retry(): Promise<void> {
    const batch: ProductWrites = new Map();
    let n = 0;
    for (const [tenantId, ids] of this.pending) {
      batch.set(tenantId, new Set(ids));
      n += ids.size;
      if (n >= 1000) break;
    }
    try {
      const keys = this.keysOf(batch);
      await this.redis.tallyCacheEnd(
        keys.length,
        ...keys,
        WRITING_TTL_MS,
        this.versionTtlMs(),
        freshVersion(),
        '0',
      );
      for (const [tenantId, ids] of batch) {
        const known = this.pending.get(tenantId)!;
        for (const id of ids) if (known.delete(id)) this.pendingCount--;
        if (known.size === 0) this.pending.delete(tenantId);
      }
    } catch (error) {
      this.failed('invalidate', error);
    }
    if (this.pendingCount > 0) this.scheduleRetry();
  }

  private failed(operation: 'invalidate', error: unknown): void {
    this.events.error('product', operation);
    if (Date.now() - this.lastLoggedAt > 10_000) {
      this.lastLoggedAt = Date.now();
      this.log.warn(`product cache invalidation failed, retrying: ${(error as Error).message}`);
    }
  }
}

/**
 * The store on REDIS_URL, told about every product write of `dataSource`; null without Redis.
 * Every app that writes products calls this, whether or not it reads the cache.
 */
export function connectProductCache(
  dataSource: DataSource,
  config: {
    REDIS_URL?: string;
    REDIS_KEY_PREFIX: string;
    REDIS_TIMEOUT_MS: number;
    PRODUCT_CACHE_TTL_SECONDS: number;
  },
  events: CacheEvents,
): ProductCacheStore | null {
  if (!config.REDIS_URL) return null;
  const store = ProductCacheStore.connect(config.REDIS_URL, {
    prefix: config.REDIS_KEY_PREFIX,
    timeoutMs: config.REDIS_TIMEOUT_MS,
    ttlSeconds: config.PRODUCT_CACHE_TTL_SECONDS,
    events,
  });
  listenToProductWrites(dataSource, store);
  return store;
}

/**
 * A version for a key Redis no longer has: microseconds since the epoch, so it is above any value
 * the lost key held (a key is bumped far less than a million times a second) and an entry stored
 * under an old version never matches again.
 */
function freshVersion(): string {
  return (BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000))).toString();
}
