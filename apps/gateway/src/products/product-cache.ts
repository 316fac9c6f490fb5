import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { parseJson, stringifyJson } from '#domain';
import { Metrics } from '#observability';
import type { CacheEvents, CacheRead, CacheSlot, ProductCacheStore } from '#persistence';

export const PRODUCT_CACHE_STORE = Symbol('PRODUCT_CACHE_STORE');
export const PRODUCT_CACHE_ENABLED = Symbol('PRODUCT_CACHE_ENABLED');

/** The store's events as metrics. */
export function cacheMetrics(metrics: Metrics): CacheEvents {
  return {
    error: (cache, operation) => metrics.cacheErrors.inc({ cache, operation }),
    fillRefused: (cache) => metrics.cacheFillsRefused.inc({ cache }),
  };
}

/**
 * Cache-aside for product reads and list pages (docs/architecture.md, "Product cache"): a hit is
 * the stored JSON; a miss loads from PostgreSQL once per key and version however many requests
 * miss together (single-flight), then fills by compare-and-set. Without Redis, with the cache
 * off, or while Redis fails (or this process has invalidations it could not deliver), every read
 * goes to PostgreSQL.
 */
@Injectable()
export class ProductCache {
  /**
   * Test seam: awaited between a load and its fill, where a write can slip in (the race the
   * fill's compare-and-set defeats). Unset in the apps.
   */
  beforeFill?: (slot: CacheSlot) => Promise<void>;
  private readonly flights = new Map<string, Promise<unknown>>();

  constructor(
    @Inject(PRODUCT_CACHE_STORE) private readonly store: ProductCacheStore | null,
    @Inject(PRODUCT_CACHE_ENABLED) private readonly enabled: boolean,
    @Inject(Metrics) private readonly metrics: Metrics,
  ) {
    // Every series from the start (at 0), so a dashboard's rate() and ratio have them before traffic.
    for (const cache of ['product', 'list'] as const) {
      for (const counter of [
        metrics.cacheHits,
        metrics.cacheMisses,
        metrics.cacheLoads,
        metrics.cacheFillsRefused,
      ])
        counter.inc({ cache }, 0);
      for (const operation of ['read', 'fill', 'invalidate'] as const)
        metrics.cacheErrors.inc({ cache, operation }, 0);
    }
  }

  /** One product of the tenant; `load` answers it from PostgreSQL (null: not found, not cached). */
  product<T>(tenantId: string, productId: string, load: () => Promise<T | null>): Promise<T | null> {
    return this.through((store) => store.productSlot(tenantId, productId), load);
  }

  /** A page of the tenant's list; `shape` is everything the page depends on. */
  list<T>(tenantId: string, shape: unknown[], load: () => Promise<T>): Promise<T> {
    const digest = createHash('sha256').update(JSON.stringify(shape)).digest('base64url').slice(0, 32);
    return this.through((store) => store.listSlot(tenantId, digest), load) as Promise<T>;
  }

  private async through<T>(
    slotOf: (store: ProductCacheStore) => CacheSlot,
    load: () => Promise<T | null>,
  ): Promise<T | null> {
    const store = this.enabled ? this.store : null;
    if (!store) return load();
    const slot = slotOf(store);
    if (store.degraded) return this.loadAlone(slot, load);
    let seen: CacheRead;
    try {
      seen = await store.read(slot);
    } catch {
      this.metrics.cacheErrors.inc({ cache: slot.cache, operation: 'read' });
      return this.loadAlone(slot, load);
    }
    if (seen.hit) {
      this.metrics.cacheHits.inc({ cache: slot.cache });
      return parseJson(seen.text) as T;
    }
    this.metrics.cacheMisses.inc({ cache: slot.cache });
    if (seen.writing) {
      // A write of the key is committing: a load already under way may predate it, and this
      // one's fill would be refused. Read alone.
      return this.loadAlone(slot, load);
    }
    // Keyed by the version seen too: a request that saw a later version (a write answered since
    // this load began) must not be handed a value that may predate the write.
    const key = `${slot.entry}@${seen.version ?? ''}`;
    let flight = this.flights.get(key) as Promise<T | null> | undefined;
    if (!flight) {
      flight = this.loadAndFill(store, slot, seen.version, load).finally(() => this.flights.delete(key));
      this.flights.set(key, flight);
    }
    return flight;
  }

  /** A database load that is neither shared nor stored (Redis failing, or a write committing). */
  private loadAlone<T>(slot: CacheSlot, load: () => Promise<T | null>): Promise<T | null> {
    this.metrics.cacheLoads.inc({ cache: slot.cache });
    return load();
  }

  private async loadAndFill<T>(
    store: ProductCacheStore,
    slot: CacheSlot,
    version: string | null,
    load: () => Promise<T | null>,
  ): Promise<T | null> {
    this.metrics.cacheLoads.inc({ cache: slot.cache });
    const value = await load();
    if (value === null) return null;
    if (this.beforeFill) await this.beforeFill(slot);
    try {
      await store.fill(slot, version, stringifyJson(value));
    } catch {
      this.metrics.cacheErrors.inc({ cache: slot.cache, operation: 'fill' });
    }
    return value;
  }
}
