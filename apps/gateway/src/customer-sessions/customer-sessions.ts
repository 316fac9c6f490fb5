import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { SignJWT, jwtVerify } from 'jose';
import { DataSource, type EntityManager } from 'typeorm';
import { AccountNotFoundError, hasIdPrefix, newId } from '#domain';
import { ApiError } from '#http';
import { AccountRepository, CustomerSessionRepository } from '#persistence';
import { CUSTOMER_SCOPES, type CustomerScope } from '../auth/access.js';
import { unauthorized } from '../auth/api-key.guard.js';

/** docs/api.md: a customer access token is valid 15 minutes. */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
const ISSUER = 'tally-gateway';
const AUDIENCE = 'tally-storefront';
const ALGORITHM = 'HS256';
const SWEEP_EVERY_MS = 10 * 60_000;

export const CUSTOMER_SESSION_OPTIONS = 'CUSTOMER_SESSION_OPTIONS';

export interface CustomerSessionOptions {
  /** HMAC key of the access tokens (CUSTOMER_TOKEN_SECRET). */
  secret: Uint8Array;
  /** A session's whole life, refreshes included (CUSTOMER_SESSION_TTL_SECONDS). */
  sessionTtlSeconds: number;
}

export interface CustomerTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

/** Who a valid customer access token speaks for. */
export interface Customer {
  tenantId: string;
  accountId: string;
  sessionId: string;
  scopes: readonly CustomerScope[];
}

const sha256 = (token: string) => createHash('sha256').update(token).digest();

/**
 * Storefront sessions: a short-lived access token (a JWT, HS256, bound to tenant, account and
 * session) and a rotating refresh token, opaque and random, stored only as its SHA-256 hash.
 * Each refresh spends its token and issues the next; a spent token presented again means it was
 * copied, and the whole session is revoked — its newest tokens included, since every request
 * with an access token checks that its session is still live (one primary-key lookup).
 */
@Injectable()
export class CustomerSessions implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(CustomerSessions.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(CustomerSessionRepository) private readonly sessions: CustomerSessionRepository,
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(CUSTOMER_SESSION_OPTIONS) private readonly options: CustomerSessionOptions,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * A new session for an account of this tenant (404 `account_not_found` otherwise), in the
   * caller's transaction (the Idempotency-Key's).
   */
  async open(manager: EntityManager, tenantId: string, accountId: string): Promise<CustomerTokens> {
    const account = hasIdPrefix(accountId, 'acc')
      ? await this.accounts.find(manager, tenantId, accountId)
      : null;
    if (!account) throw new AccountNotFoundError(accountId);
    const sessionId = newId('cs');
    const { expiresAt } = await this.sessions.create(manager, {
      id: sessionId,
      tenantId,
      accountId,
      ttlSeconds: this.options.sessionTtlSeconds,
    });
    return this.issue(manager, { sessionId, tenantId, accountId, expiresAt });
  }

  /**
   * Spends a refresh token for a new pair. Of two refreshes with one token, the second waits on
   * the first's row lock, then finds the token spent: it is a reuse like any other.
   */
  async refresh(refreshToken: string): Promise<CustomerTokens> {
    const hash = sha256(refreshToken);
    const outcome = await this.dataSource.transaction(async (manager) => {
      const token = await this.sessions.lockRefreshToken(manager, hash);
      if (!token) return 'unknown' as const;
      if (token.used) {
        await this.sessions.revoke(manager, token.sessionId, 'refresh_token_reused');
        this.log.warn(
          `customer session ${token.sessionId} revoked: a spent refresh token was presented again`,
        );
        return 'reused' as const;
      }
      if (token.sessionOver) return 'over' as const;
      await this.sessions.spend(manager, hash);
      return this.issue(manager, token);
    });
    // Refusals are thrown after the commit: the revocation must stand although the caller is refused.
    if (outcome === 'reused') {
      throw new ApiError(
        401,
        'refresh_token_reused',
        'This refresh token was already used: the session is revoked. Open a new one.',
        undefined,
        { 'WWW-Authenticate': 'Bearer' },
      );
    }
    if (outcome === 'unknown') throw unauthorized('The refresh token is not valid.');
    if (outcome === 'over') throw unauthorized('The session has ended or was revoked. Open a new one.');
    return outcome;
  }

  /**
   * The customer an access token speaks for; 401 when its signature, algorithm, issuer, audience
   * or expiry is wrong, or its session has ended or was revoked.
   */
  async authenticate(accessToken: string): Promise<Customer> {
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(accessToken, this.options.secret, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['sub', 'sid', 'tid', 'scope', 'exp', 'iat'],
      }));
    } catch {
      throw unauthorized('The access token is not valid or has expired.');
    }
    const { sub, sid, tid, scope } = claims;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof tid !== 'string' ||
      typeof scope !== 'string' ||
      !hasIdPrefix(sid, 'cs')
    ) {
      throw unauthorized('The access token is not valid or has expired.');
    }
    const customer = { tenantId: tid, accountId: sub, sessionId: sid };
    if (!(await this.sessions.isLive(this.dataSource.manager, customer))) {
      throw unauthorized('The session has ended or was revoked. Open a new one.');
    }
    const granted = scope.split(' ');
    return { ...customer, scopes: CUSTOMER_SCOPES.filter((s) => granted.includes(s)) };
  }

  /** Deletes sessions that ended more than a day ago, with their refresh tokens. */
  async sweep(): Promise<number> {
    try {
      return await this.sessions.deleteEnded(this.dataSource.manager, 10_000);
    } catch (error) {
      this.log.warn(`customer session sweep failed: ${(error as Error).message}`);
      return 0;
    }
  }

  private async issue(
    manager: EntityManager,
    s: { sessionId: string; tenantId: string; accountId: string; expiresAt: Date },
  ): Promise<CustomerTokens> {
    const now = Math.floor(Date.now() / 1000);
    // Never beyond the session's end (the session check would refuse it then anyway).
    const exp = Math.min(now + ACCESS_TOKEN_TTL_SECONDS, Math.floor(s.expiresAt.getTime() / 1000));
    const accessToken = await new SignJWT({
      tid: s.tenantId,
      sid: s.sessionId,
      scope: CUSTOMER_SCOPES.join(' '),
    })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(s.accountId)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.options.secret);
    // `csr_<tenant id>.<256 random bits>`: the tenant (already in the access token's claims) lets
    // the edge of a deployment in cells route a refresh, which carries no other credential.
    const refreshToken = `csr_${s.tenantId}.${randomBytes(32).toString('base64url')}`;
    await this.sessions.addRefreshToken(manager, s.sessionId, sha256(refreshToken));
    return { accessToken, refreshToken, expiresIn: Math.max(0, exp - now) };
  }
}
