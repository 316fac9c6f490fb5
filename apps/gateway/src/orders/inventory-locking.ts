import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { EntityManager } from 'typeorm';
import type { StockCounters } from '#domain';
import { ApiError } from '#http';
import { ProductRepository, type ProductRecord } from '#persistence';

/** The injection token of the configured InventoryStrategy. */
export const INVENTORY_STRATEGY = 'INVENTORY_STRATEGY';

export const INVENTORY_LOCKING = ['pessimistic', 'distributed', 'optimistic'] as const;
export type InventoryLocking = (typeof INVENTORY_LOCKING)[number];

/**
 * How an order's products are read and their stock written so that two orders never both take the
 * last unit. PlaceOrder prices and reserves the same way whichever is configured; only these steps
 * differ.
 */
export interface InventoryStrategy {
  readonly name: InventoryLocking;
  /** Runs the whole placement, its database transaction included (the distributed lock wraps it). */
  around<T>(productIds: string[], run: () => Promise<T>): Promise<T>;
  /**
   * One attempt inside the order's transaction: `work` reads with `read`, writes with `write`; a
   * strategy that detects a lost race (optimistic) undoes the attempt and runs it again.
   */
  attempt<T>(manager: EntityManager, work: () => Promise<T>): Promise<T>;
  read(manager: EntityManager, tenantId: string, ids: string[]): Promise<Map<string, ProductRecord>>;
  write(
    manager: EntityManager,
    read: Map<string, ProductRecord>,
    stock: Map<string, StockCounters>,
  ): Promise<void>;
}

const contention = (detail: string) => new ApiError(409, 'inventory_contention', detail);

/** `SELECT … FOR UPDATE` in id order inside the transaction: concurrent orders queue on the rows. */
export class PessimisticInventory implements InventoryStrategy {
  readonly name: InventoryLocking = 'pessimistic';

  constructor(protected readonly products: ProductRepository) {}

  around<T>(_ids: string[], run: () => Promise<T>): Promise<T> {
    return run();
  }

  attempt<T>(_manager: EntityManager, work: () => Promise<T>): Promise<T> {
    return work();
  }

  read(manager: EntityManager, tenantId: string, ids: string[]) {
    return this.products.lockMany(manager, tenantId, ids);
  }

  write(manager: EntityManager, _read: Map<string, ProductRecord>, stock: Map<string, StockCounters>) {
    return this.products.setStock(manager, stock);
  }
}

/** Bounded retries with jitter of a version-compared write. */
export interface OptimisticOptions {
  attempts: number;
  /** Upper bound of the random pause before a retry, doubled at each one. */
  backoffMs: number;
}

class VersionMoved extends Error {}

/**
 * No lock on read; each product's write is `… WHERE version = <read>`. A row that moved meanwhile
 * undoes the attempt (a savepoint, so the idempotency key and the transaction stay) and runs it
 * again after a random pause; when every attempt lost, 409 inventory_contention.
 */
export class OptimisticInventory implements InventoryStrategy {
  readonly name: InventoryLocking = 'optimistic';

  constructor(
    private readonly products: ProductRepository,
    private readonly options: OptimisticOptions,
  ) {}

  around<T>(_ids: string[], run: () => Promise<T>): Promise<T> {
    return run();
  }

  async attempt<T>(manager: EntityManager, work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await manager.query('SAVEPOINT inventory_attempt');
      try {
        const result = await work();
        await manager.query('RELEASE SAVEPOINT inventory_attempt');
        return result;
      } catch (error) {
        await manager.query('ROLLBACK TO SAVEPOINT inventory_attempt');
        if (!(error instanceof VersionMoved)) throw error;
        if (attempt >= this.options.attempts) {
          throw contention(
            `The stock of these products changed under ${attempt} attempts in a row; try again.`,
          );
        }
        await sleep(Math.random() * this.options.backoffMs * 2 ** (attempt - 1));
      }
    }
  }

  read(manager: EntityManager, tenantId: string, ids: string[]) {
    return this.products.readMany(manager, tenantId, ids);
  }

  async write(manager: EntityManager, read: Map<string, ProductRecord>, stock: Map<string, StockCounters>) {
    const moved = await this.products.setStockIfVersion(
      manager,
      new Map([...stock].map(([id, counters]) => [id, { counters, version: read.get(id)!.version }])),
    );
    if (moved) throw new VersionMoved(moved);
  }
}

/** The Redis lock of the distributed strategy. */
export interface DistributedOptions {
  redisUrl: string | undefined;
  keyPrefix: string;
  timeoutMs: number;
  /** A holder's lock expires after this (a crashed gateway does not block the product for long). */
  lockTtlMs: number;
  /** How long an order waits for a product's lock before 409 inventory_contention. */
  waitMs: number;
}

// Takes the lock if free and, with it, the next fencing token of the product.
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
`;
// Deletes the lock only if it is still this owner's (it may have expired and been taken since).
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

// While the owner still holds the lock: raises the fence counter to at least ARGV[2] and issues the
// next token (0 if the lock is no longer this owner's).
const REFENCE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local floor = tonumber(ARGV[2])
if (tonumber(redis.call('GET', KEYS[2])) or 0) < floor then
  redis.call('SET', KEYS[2], ARGV[2])
end
return redis.call('INCR', KEYS[2])
`;

interface LockCommands {
  tallyLockRefence(key: string, fenceKey: string, token: string, floor: string): Promise<number>;
  tallyLockAcquire(key: string, fenceKey: string, token: string, ttlMs: number): Promise<number>;
  tallyLockRelease(key: string, token: string): Promise<number>;
}

/** What `around` established for the placement running inside it. */
type Held = { fences: Map<string, bigint>; token: string } | { fences: null; token: string };

/**
 * A Redis lock per product, taken in id order before the database transaction, so replicas queue
 * in Redis rather than holding connections in Postgres. The write also records the lock's fencing
 * token in `lock_fence` and is refused if a later token was written: a holder whose lock expired
 * while another took it cannot write after it.
 *
 * Rows are still read `FOR UPDATE` (uncontended while every order goes through Redis): the worker's
 * settlements and the fallback take them, and Postgres stays the source of truth. When Redis cannot
 * be asked (down, slow, or REDIS_URL unset) the order takes the pessimistic path — never no lock.
 */
export class DistributedInventory extends PessimisticInventory {
  override readonly name: InventoryLocking = 'distributed';
  private readonly log = new Logger('DistributedInventory');
  private readonly held = new AsyncLocalStorage<Held>();
  private readonly redis: (Redis & LockCommands) | null;
  private lastLoggedAt = 0;

  constructor(
    products: ProductRepository,
    private readonly options: DistributedOptions,
    private readonly onFallback: () => void = () => undefined,
  ) {
    super(products);
    this.redis = options.redisUrl ? connect(options.redisUrl, options.timeoutMs) : null;
  }

  override async around<T>(productIds: string[], run: () => Promise<T>): Promise<T> {
    const ids = [...new Set(productIds)].sort();
    const token = randomBytes(16).toString('hex');
    const taken: string[] = [];
    let fences: Map<string, bigint> | null = new Map();
    try {
      for (const id of ids) {
        const fence = await this.acquire(id, token);
        taken.push(id);
        fences.set(id, fence);
      }
    } catch (error) {
      await this.release(taken, token);
      if (error instanceof ApiError) throw error;
      this.fellBack(error);
      fences = null;
      taken.length = 0;
    }
    try {
      return await this.held.run({ fences, token }, run);
    } finally {
      await this.release(taken, token);
    }
  }

  override async write(
    manager: EntityManager,
    read: Map<string, ProductRecord>,
    stock: Map<string, StockCounters>,
  ): Promise<void> {
    const held = this.held.getStore();
    const fences = held?.fences;
    if (!held || !fences) return super.write(manager, read, stock);
    const write = () =>
      this.products.setStockIfFence(
        manager,
        new Map([...stock].map(([id, counters]) => [id, { counters, fence: fences.get(id)! }])),
      );
    let stale = await write();
    // Refused while the lock is still ours: Redis lost its counter (a restart without persistence)
    // and issued a token the database has seen. Move the counter past it and write once more.
    if (stale && (await this.refence(manager, stale, held.token, fences))) stale = await write();
    if (stale) {
      throw contention(`The lock on product ${stale} expired and was taken by another order; try again.`);
    }
  }

  /** A fresh token above the product's recorded one, if the caller still holds its lock. */
  private async refence(
    manager: EntityManager,
    id: string,
    token: string,
    fences: Map<string, bigint>,
  ): Promise<boolean> {
    if (!this.redis) return false;
    const [row]: { lock_fence: string }[] = await manager.query(
      `SELECT lock_fence FROM products WHERE id = $1`,
      [id],
    );
    const key = this.lockKey(id);
    const fence = await this.redis
      .tallyLockRefence(key, `${key}:fence`, token, row.lock_fence)
      .catch(() => 0);
    if (fence === 0) return false;
    fences.set(id, BigInt(fence));
    return true;
  }

  private lockKey(id: string): string {
    return `${this.options.keyPrefix}lock:product:${id}`;
  }

  onModuleDestroy(): void {
    this.redis?.disconnect();
  }

  private async acquire(id: string, token: string): Promise<bigint> {
    if (!this.redis) throw new Error('REDIS_URL is not set');
    const key = this.lockKey(id);
    const deadline = Date.now() + this.options.waitMs;
    for (let round = 0; ; round++) {
      const fence = await this.redis.tallyLockAcquire(key, `${key}:fence`, token, this.options.lockTtlMs);
      if (fence !== 0) return BigInt(fence);
      if (Date.now() >= deadline) {
        throw contention(
          `Product ${id} stayed locked by other orders for ${this.options.waitMs} ms; try again.`,
        );
      }
      // Short pauses first (a holder keeps it for one transaction), then up to 50 ms, jittered.
      await sleep(Math.random() * Math.min(50, 2 + round * 2));
    }
  }

  private async release(ids: string[], token: string): Promise<void> {
    if (!this.redis) return;
    await Promise.all(
      // A failed release leaves the lock to expire by itself.
      ids.map((id) => this.redis!.tallyLockRelease(this.lockKey(id), token).catch(() => 0)),
    );
  }

  private fellBack(error: unknown): void {
    this.onFallback();
    if (Date.now() - this.lastLoggedAt > 10_000) {
      this.lastLoggedAt = Date.now();
      this.log.warn(
        `inventory lock store unavailable, locking rows in Postgres: ${(error as Error).message}`,
      );
    }
  }
}

function connect(url: string, timeoutMs: number): Redis & LockCommands {
  const redis = new Redis(url, {
    enableOfflineQueue: false, // disconnected ⇒ fail at once and fall back, not queue behind the outage
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  redis.on('error', () => undefined); // surfaces on the commands; the connection retries by itself
  redis.defineCommand('tallyLockAcquire', { numberOfKeys: 2, lua: ACQUIRE });
  redis.defineCommand('tallyLockRelease', { numberOfKeys: 1, lua: RELEASE });
  redis.defineCommand('tallyLockRefence', { numberOfKeys: 2, lua: REFENCE });
  return redis as Redis & LockCommands;
}

/** The strategy INVENTORY_LOCKING names, with its settings. */
export function inventoryStrategy(
  config: {
    INVENTORY_LOCKING: InventoryLocking;
    INVENTORY_LOCK_TTL_MS: number;
    INVENTORY_LOCK_WAIT_MS: number;
    INVENTORY_OPTIMISTIC_ATTEMPTS: number;
    REDIS_URL?: string;
    REDIS_KEY_PREFIX: string;
    REDIS_TIMEOUT_MS: number;
  },
  products: ProductRepository,
): InventoryStrategy {
  switch (config.INVENTORY_LOCKING) {
    case 'pessimistic':
      return new PessimisticInventory(products);
    case 'optimistic':
      return new OptimisticInventory(products, {
        attempts: config.INVENTORY_OPTIMISTIC_ATTEMPTS,
        backoffMs: 5,
      });
    case 'distributed':
      return new DistributedInventory(products, {
        redisUrl: config.REDIS_URL,
        keyPrefix: config.REDIS_KEY_PREFIX,
        timeoutMs: config.REDIS_TIMEOUT_MS,
        lockTtlMs: config.INVENTORY_LOCK_TTL_MS,
        waitMs: config.INVENTORY_LOCK_WAIT_MS,
      });
  }
}
