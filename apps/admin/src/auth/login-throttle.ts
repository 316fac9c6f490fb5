import type { OnApplicationShutdown } from '@nestjs/common';
import { type Metrics } from '#observability';
import { ApiError, rateLimitHeaders, type BucketPolicy, type RateLimiter } from '#http';

export interface LoginLimits {
  /** Failed sign-ins one operator account may have before it must wait… */
  failuresPerAccount: number;
  /** …and the time in which those failures are forgiven again. */
  failureWindowSeconds: number;
  /** Sign-in attempts (failed or not) from one client address per minute. */
  attemptsPerAddressPerMinute: number;
}

/**
 * Slows password guessing: a bucket of failures per operator email (so one account cannot be
 * brute-forced from many addresses) and a bucket of attempts per client address (so one address
 * cannot spray many accounts). Both answer 429 `rate_limited` with Retry-After.
 *
 * An attempt takes its failure token before the password is checked, in one atomic step, and gets
 * it back only if the password was right: checking first and counting after the (slow) hash would
 * let every guess sent at the same moment through. The limiter keeps its buckets in this process
 * while Redis is unreachable, so the limit holds then too.
 */
export class LoginThrottle implements OnApplicationShutdown {
  private readonly account: BucketPolicy;
  private readonly address: BucketPolicy;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly metrics: Metrics,
    limits: LoginLimits,
  ) {
    this.account = {
      name: 'login-account',
      capacity: limits.failuresPerAccount,
      refillPerSecond: limits.failuresPerAccount / limits.failureWindowSeconds,
    };
    this.address = {
      name: 'login-address',
      capacity: limits.attemptsPerAddressPerMinute,
      refillPerSecond: limits.attemptsPerAddressPerMinute / 60,
    };
  }

  /** Before checking the password: takes an attempt from this address and a failure from this account. */
  async admit(email: string, address: string): Promise<void> {
    const byAddress = await this.limiter.take(address, this.address);
    if (!byAddress.allowed) this.refuse(byAddress, 'Too many sign-in attempts from this address.');
    const byAccount = await this.limiter.take(accountKey(email), this.account);
    if (!byAccount.allowed) this.refuse(byAccount, 'Too many failed sign-ins for this account.');
  }

  /**
   * After the attempt: a wrong password (or an unknown email: the same answer, the same cost)
   * keeps the failure it took; anything else gives it back.
   */
  async settle(email: string, wrongPassword: boolean): Promise<void> {
    if (!wrongPassword) await this.limiter.giveBack(accountKey(email), this.account);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.limiter.close();
  }

  private refuse(decision: Awaited<ReturnType<RateLimiter['take']>>, message: string): never {
    this.metrics.rateLimited.inc({ policy: decision.policy.name });
    throw new ApiError(
      429,
      'rate_limited',
      `${message} Retry after ${decision.retryAfterSeconds} s.`,
      undefined,
      rateLimitHeaders(decision),
    );
  }
}

const accountKey = (email: string) => email.trim().toLowerCase();
