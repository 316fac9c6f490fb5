import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { bearerToken, hashApiKey, looksLikeApiKey } from '#domain';
import { ApiError } from '#http';
import { GatewayRateLimits } from './rate-limits.js';

/** Whom a request speaks for: a tenant, through one of its API keys or a customer session. */
export interface Tenant {
  tenantId: string;
  /** The API key used; null for a customer access token. */
  apiKeyId: string | null;
  /** Set for a customer access token: the account it is bound to, and its session. */
  customer?: { accountId: string; sessionId: string };
}

declare module 'fastify' {
  interface FastifyRequest {
    tenant?: Tenant;
  }
}

const CACHE_TTL_MS = 5_000; // a revoked key stops working within this
const REFRESH_AHEAD_MS = 1_000; // a key in use is looked up again this long before its entry expires
const TOUCH_INTERVAL_MS = 60_000; // last_used_at precision
const MAX_VALID_KEYS = 10_000; // valid keys remembered at once
const MAX_UNKNOWN_KEYS = 10_000; // unknown or revoked keys remembered at once (and first lookups)

interface CachedKey {
  tenant: Tenant | null;
  expires: number;
  /** A lookup of this key in flight: a refresh ahead of expiry, or the first lookup. */
  lookup?: Promise<Tenant | null>;
}

/** A map of at most `max` entries: setting one makes it the newest, and the oldest go first. */
class BoundedMap<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * GatewayGuard's API-key half. Authenticates `Authorization: Bearer <api key>` and scopes the request to the key's tenant,
 * then takes a token from the key's rate-limit bucket for the route's class (429 when empty).
 * Keys are looked up by SHA-256 hash; a short cache keeps the lookup off the hot path: a key in
 * use is looked up again, once, in the background shortly before its entry expires, and requests
 * that find no entry share one lookup, so an entry expiring under load does not send every
 * request in flight to the database at once.
 * Valid keys and unknown ones are remembered apart, each up to a bound, the least recently looked
 * up going first: anyone can send made-up keys, and a flood of them must only push out other
 * made-up keys (each is still looked up once; limit unauthenticated traffic at the ingress).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly valid = new BoundedMap<CachedKey>(MAX_VALID_KEYS);
  private readonly unknown = new BoundedMap<CachedKey>(MAX_UNKNOWN_KEYS);
  private readonly touched = new Map<string, number>();

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(GatewayRateLimits) private readonly rateLimits: GatewayRateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<import('fastify').FastifyRequest>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw unauthorized('Send your API key as "Authorization: Bearer <key>".');
    const tenant = looksLikeApiKey(token) ? await this.resolve(token) : null;
    if (!tenant?.apiKeyId) throw unauthorized('The API key is not valid, or has been revoked.');
    request.tenant = tenant;
    this.touch(tenant.apiKeyId);
    await this.rateLimits.enforce(tenant.apiKeyId, request, context.switchToHttp().getResponse());
    return true;
  }

  private resolve(key: string): Promise<Tenant | null> | Tenant | null {
    const hash = hashApiKey(key);
    const cacheKey = hash.toString('hex');
    const now = Date.now();
    const entry = this.valid.get(cacheKey) ?? this.unknown.get(cacheKey);
    if (entry && entry.expires > now) {
      if (!entry.lookup && entry.expires - now < REFRESH_AHEAD_MS) {
        const refresh = this.lookUp(cacheKey, hash);
        entry.lookup = refresh;
        refresh.catch(() => (entry.lookup = undefined)); // the next request tries again
      }
      return entry.tenant;
    }
    if (entry?.lookup) return entry.lookup;
    // Requests that come meanwhile wait on this lookup, found where the key's entry was (a key
    // that was valid stays among the valid ones, out of a flood's reach).
    const home = entry?.tenant ? this.valid : this.unknown;
    const lookup = this.lookUp(cacheKey, hash);
    home.set(cacheKey, { tenant: null, expires: 0, lookup });
    lookup.catch(() => home.delete(cacheKey));
    return lookup;
  }

  /** Reads the key's tenant and caches the answer (a miss too) for CACHE_TTL_MS. */
  private async lookUp(cacheKey: string, hash: Buffer): Promise<Tenant | null> {
    const rows: { id: string; tenant_id: string }[] = await this.dataSource.query(
      `SELECT k.id, k.tenant_id FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
        WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND t.status = 'active'`,
      [hash],
    );
    const tenant = rows[0] ? { tenantId: rows[0].tenant_id, apiKeyId: rows[0].id } : null;
    const [remember, forget] = tenant ? [this.valid, this.unknown] : [this.unknown, this.valid];
    forget.delete(cacheKey);
    remember.set(cacheKey, { tenant, expires: Date.now() + CACHE_TTL_MS });
    return tenant;
  }

  private touch(apiKeyId: string): void {
    const last = this.touched.get(apiKeyId) ?? 0;
    if (Date.now() - last < TOUCH_INTERVAL_MS) return;
    this.touched.set(apiKeyId, Date.now());
    void this.dataSource
      .query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [apiKeyId])
      .catch(() => this.touched.delete(apiKeyId));
  }
}

/** 401 `unauthorized`, with the challenge RFC 6750 asks for. */
export function unauthorized(message: string): ApiError {
  return new ApiError(401, 'unauthorized', message, undefined, { 'WWW-Authenticate': 'Bearer' });
}
