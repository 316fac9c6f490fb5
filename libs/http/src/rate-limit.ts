import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { Metrics } from '#observability';

/** A token bucket: `capacity` tokens at most, refilled at `refillPerSecond`; one request takes one. */
export interface BucketPolicy {
  /** Named in the RateLimit-Policy header ("writes", "reads", "events", "login-account", …). */
  readonly name: string;
  readonly capacity: number;
  readonly refillPerSecond: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  readonly policy: BucketPolicy;
  /** Whole tokens left after this request; undefined when the store could not be asked. */
  readonly remaining?: number;
  /** Seconds until one token is back (0 when allowed). */
  readonly retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  readonly resetSeconds: number;
}

/** Where bucket state lives: this process, or Redis so that every replica shares it. */
export interface BucketStore {
  /**
   * Takes `cost` tokens if there are that many; answers whether it did and what is left. A
   * negative cost gives tokens back (never beyond the capacity).
   */
  take(key: string, policy: BucketPolicy, cost: number): Promise<{ allowed: boolean; tokens: number }>;
  close(): Promise<void>;
}

/** In-process buckets, for a single replica or when no Redis is configured. */
export class MemoryBucketStore implements BucketStore {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly now: () => number = () => Date.now(),
    private readonly maxKeys = 100_000,
  ) {}

  async take(key: string, policy: BucketPolicy, cost: number) {
    const tokens = this.current(key, policy);
    const allowed = tokens >= cost;
    const left = allowed ? Math.min(policy.capacity, tokens - cost) : tokens;
    if (this.buckets.size >= this.maxKeys && !this.buckets.has(key)) this.evictFull(policy);
    this.buckets.set(key, { tokens: left, at: this.now() });
    return { allowed, tokens: left };
  }

  async close() {}

  private current(key: string, policy: BucketPolicy): number {
    const state = this.buckets.get(key);
    if (!state) return policy.capacity;
    const elapsed = Math.max(0, this.now() - state.at) / 1000;
    return Math.min(policy.capacity, state.tokens + elapsed * policy.refillPerSecond);
  }

  /** Forgets buckets that have refilled (they hold nothing a fresh bucket would not). */
  private evictFull(policy: BucketPolicy): void {
    const fullAfterMs = (policy.capacity / policy.refillPerSecond) * 1000;
    const now = this.now();
    for (const [key, state] of this.buckets) if (now - state.at >= fullAfterMs) this.buckets.delete(key);
    if (this.buckets.size >= this.maxKeys) this.buckets.clear();
  }
}

// Atomic refill-and-take on the server's clock, so replicas with skewed clocks agree.
// State: a hash {tokens, at(ms)}, expiring once it would be full anyway.
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
local allowed = 0
if cost < 0 then
  tokens = math.min(capacity, tokens - cost)
  allowed = 1
elseif tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / perMs) + 1000)
return {allowed, tostring(tokens)}
`;

type TakeCommand = (key: string, capacity: number, perMs: number, cost: number) => Promise<[number, string]>;

/** Buckets in Redis, shared by every replica. Commands time out fast; the limiter then decides. */
export class RedisBucketStore implements BucketStore {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly keyPrefix: string,
    timeoutMs: number,
  ) {
    this.redis = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: false, // disconnected ⇒ fail at once, not queue behind the outage
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 1000),
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    // Errors surface on the commands (and are counted there); the connection retries by itself.
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('tallyTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  }

  async take(key: string, policy: BucketPolicy, cost: number) {
    const take = (this.redis as unknown as { tallyTakeToken: TakeCommand }).tallyTakeToken.bind(this.redis);
    const [allowed, tokens] = await take(
      this.keyPrefix + key,
      policy.capacity,
      policy.refillPerSecond / 1000,
      cost,
    );
    return { allowed: allowed === 1, tokens: Number(tokens) };
  }

  async close() {
    this.redis.disconnect();
  }
}

/**
 * Token-bucket rate limiting over a store. If the store fails (Redis down or slow), the request is
 * allowed — limits protect capacity, they must not become an outage of their own — unless the
 * limiter was given a fallback store: then this process's own buckets decide meanwhile (limits
 * that stand between an attacker and a password must hold). Either way the failure is logged (at
 * most every 10 s) and counted.
 */
export class RateLimiter {
  private readonly log = new Logger('RateLimiter');
  private lastLoggedAt = 0;

  constructor(
    private readonly store: BucketStore,
    private readonly onStoreFailure: () => void = () => undefined,
    private readonly fallback: BucketStore | null = null,
  ) {}

  async take(key: string, policy: BucketPolicy, cost = 1): Promise<RateDecision> {
    const bucket = `${policy.name}:${key}`;
    try {
      const { allowed, tokens } = await this.store.take(bucket, policy, cost);
      return decide(policy, allowed, tokens, cost);
    } catch (error) {
      this.storeFailed(error);
      if (!this.fallback) return allowOpen(policy);
      const { allowed, tokens } = await this.fallback.take(bucket, policy, cost);
      return decide(policy, allowed, tokens, cost);
    }
  }

  /** Returns `count` tokens taken earlier (a reservation that turned out not to be needed). */
  async giveBack(key: string, policy: BucketPolicy, count = 1): Promise<void> {
    const bucket = `${policy.name}:${key}`;
    try {
      await this.store.take(bucket, policy, -count);
    } catch (error) {
      this.storeFailed(error);
      await this.fallback?.take(bucket, policy, -count);
    }
  }

  async close(): Promise<void> {
    await this.store.close();
    await this.fallback?.close();
  }

  private storeFailed(error: unknown): void {
    this.onStoreFailure();
    if (Date.now() - this.lastLoggedAt > 10_000) {
      this.lastLoggedAt = Date.now();
      this.log.warn(
        `rate-limit store unavailable, ${this.fallback ? 'limiting in this process' : 'allowing requests'}: ${(error as Error).message}`,
      );
    }
  }
}

function allowOpen(policy: BucketPolicy): RateDecision {
  return { allowed: true, policy, retryAfterSeconds: 0, resetSeconds: 0 };
}

function decide(policy: BucketPolicy, allowed: boolean, tokens: number, cost: number): RateDecision {
  const rate = policy.refillPerSecond;
  return {
    allowed,
    policy,
    remaining: Math.max(0, Math.floor(tokens)),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((cost - tokens) / rate)),
    resetSeconds: Math.ceil((policy.capacity - tokens) / rate),
  };
}

/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers): the policy as a quota
 * `q` per window `w` seconds (the bucket's capacity and the time to refill it), and the current
 * state as remaining `r` and seconds `t` until the quota is whole again.
 */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const { policy } = decision;
  const window = Math.max(1, Math.ceil(policy.capacity / policy.refillPerSecond));
  const headers: Record<string, string> = {
    'RateLimit-Policy': `"${policy.name}";q=${policy.capacity};w=${window}`,
  };
  if (decision.remaining !== undefined) {
    headers['RateLimit'] = `"${policy.name}";r=${decision.remaining};t=${decision.resetSeconds}`;
  }
  if (!decision.allowed) headers['Retry-After'] = String(decision.retryAfterSeconds);
  return headers;
}

/**
 * The app's rate limiter: buckets in Redis when REDIS_URL is set (keys under REDIS_KEY_PREFIX +
 * "rl:"), else in this process; store failures are counted in
 * tally_rate_limit_store_failures_total. `whenStoreFails`: 'open' allows requests while Redis is
 * unreachable, 'in-process' limits them with this process's own buckets meanwhile.
 */
export function createRateLimiter(
  config: { REDIS_URL?: string; REDIS_KEY_PREFIX: string; REDIS_TIMEOUT_MS: number },
  metrics: Metrics,
  whenStoreFails: 'open' | 'in-process' = 'open',
): RateLimiter {
  const store = config.REDIS_URL
    ? new RedisBucketStore(config.REDIS_URL, `${config.REDIS_KEY_PREFIX}rl:`, config.REDIS_TIMEOUT_MS)
    : new MemoryBucketStore();
  const fallback = config.REDIS_URL && whenStoreFails === 'in-process' ? new MemoryBucketStore() : null;
  return new RateLimiter(store, () => metrics.rateLimitStoreFailures.inc(), fallback);
}
