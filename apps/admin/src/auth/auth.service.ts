import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';
import { SignJWT, jwtVerify } from 'jose';
import { DataSource, type EntityManager } from 'typeorm';
import { newId } from '#domain';
import { AuditLog } from '../audit/audit-log.js';
import { conflict, unauthorized } from '../http/errors.js';
import { OperatorRepository } from './operator.repository.js';
import { SessionRepository } from './session.repository.js';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Operator {
  id: string;
  email: string;
  role: Role;
}

export interface AuthOptions {
  jwtSecret: Uint8Array;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  bootstrap: { email: string; password: string } | null;
  /**
   * Development only (NODE_ENV=development, no ADMIN_EMAIL/ADMIN_PASSWORD): the dashboard's
   * address, for the operator made up on a first start and printed with its password.
   */
  developmentSignIn: { dashboardUrl: string } | null;
}

/** The operator a development first start makes up when none is configured. */
export const DEVELOPMENT_ADMIN_EMAIL = 'admin@tally.local';

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

// argon2id (OWASP: m=19 MiB, t=2, p=1).
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const sha256 = (token: string) => createHash('sha256').update(token).digest();

/**
 * Operators' sign-in: argon2id password hashes; a short-lived access JWT (HS256) and a rotating
 * refresh token (only its hash stored). Each refresh spends its token and issues the next in the
 * same family; a spent token presented again means it leaked, and the whole family is revoked.
 */
@Injectable()
export class AuthService implements OnApplicationBootstrap {
  private readonly log = new Logger(AuthService.name);
  private dummyHash: Promise<string> | undefined;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AuditLog) private readonly audit: AuditLog,
    @Inject(OperatorRepository) private readonly operators: OperatorRepository,
    @Inject(SessionRepository) private readonly sessions: SessionRepository,
    @Inject('AUTH_OPTIONS') private readonly options: AuthOptions,
  ) {}

  /** The first admin, from ADMIN_EMAIL and ADMIN_PASSWORD, when there is no operator yet. */
  async onApplicationBootstrap(): Promise<void> {
    const dev = this.options.developmentSignIn;
    const boot =
      this.options.bootstrap ??
      (dev ? { email: DEVELOPMENT_ADMIN_EMAIL, password: randomBytes(18).toString('base64url') } : null);
    if (!boot) return;
    const created = await this.dataSource.transaction(async (manager) => {
      if ((await this.operators.countLocked(manager)) > 0) return false;
      const operator = await this.insertOperator(manager, null, boot.email, boot.password, 'admin');
      this.log.log(`created the first admin operator ${operator.id}`);
      return true;
    });
    if (created && dev && !this.options.bootstrap) {
      // To the terminal of whoever ran `npm run up`, once, not through the log pipeline: a made-up
      // development password (production never makes one up: it needs ADMIN_EMAIL/ADMIN_PASSWORD).
      process.stdout.write(
        [
          '',
          '  Tally dashboard (development): ' + dev.dashboardUrl,
          `  sign in as ${boot.email} with password ${boot.password}`,
          '  (shown once; this operator is an admin: create your own under Operators)',
          '',
        ].join('\n') + '\n',
      );
    }
  }

  /** An admin creates an operator; 409 `operator_exists` when the email is taken. */
  async createOperator(actorId: string, email: string, password: string, role: Role): Promise<Operator> {
    return this.dataSource.transaction((manager) =>
      this.insertOperator(manager, actorId, email, password, role),
    );
  }

  private async insertOperator(
    manager: EntityManager,
    actorId: string | null,
    email: string,
    password: string,
    role: Role,
  ): Promise<Operator> {
    const id = newId('op');
    const passwordHash = await hash(password, ARGON2);
    if (!(await this.operators.insert(manager, { id, email, passwordHash, role }))) {
      throw conflict('operator_exists', 'An operator with this email exists already.');
    }
    await this.audit.record(manager, {
      operatorId: actorId,
      action: actorId ? 'operator.create' : 'operator.bootstrap',
      targetType: 'operator',
      targetId: id,
      details: { email, role },
    });
    return { id, email, role };
  }

  async login(email: string, password: string): Promise<Tokens> {
    const row = await this.operators.findActiveByEmail(this.dataSource.manager, email);
    // Same work whether or not the operator exists: no telling which emails are registered.
    this.dummyHash ??= hash(randomBytes(16).toString('hex'), ARGON2);
    const ok = await verify(row?.passwordHash ?? (await this.dummyHash), password);
    if (!row || !ok) throw unauthorized('Wrong email or password.');
    await this.audit.record(this.dataSource.manager, {
      operatorId: row.id,
      action: 'auth.login',
      targetType: 'operator',
      targetId: row.id,
    });
    return this.issue(this.dataSource.manager, { id: row.id, email: row.email, role: row.role }, newId('rt'));
  }

  async refresh(refreshToken: string): Promise<Tokens> {
    return this.dataSource
      .transaction(async (manager) => {
        const row = await this.sessions.lockByHash(manager, sha256(refreshToken));
        if (!row || row.revokedAt || row.expired || row.operatorStatus !== 'active') {
          throw unauthorized('The refresh token is not valid.');
        }
        if (row.usedAt) {
          await this.sessions.revokeFamily(manager, row.familyId);
          await this.audit.record(manager, {
            operatorId: row.operatorId,
            action: 'auth.refresh_reuse',
            targetType: 'operator',
            targetId: row.operatorId,
            reason: 'a spent refresh token was presented again; every session of its family is revoked',
            details: { family: row.familyId },
          });
          return null;
        }
        await this.sessions.markUsed(manager, row.id);
        return this.issue(manager, { id: row.operatorId, email: row.email, role: row.role }, row.familyId);
      })
      .then((tokens) => {
        // The revocation above must commit even though the caller is refused.
        if (!tokens) throw unauthorized('The refresh token was already used; the session is revoked.');
        return tokens;
      });
  }

  async logout(refreshToken: string): Promise<void> {
    const row = await this.sessions.findByHash(this.dataSource.manager, sha256(refreshToken));
    if (!row) return;
    await this.sessions.revokeFamily(this.dataSource.manager, row.familyId);
    await this.audit.record(this.dataSource.manager, {
      operatorId: row.operatorId,
      action: 'auth.logout',
      targetType: 'operator',
      targetId: row.operatorId,
    });
  }

  /**
   * The operator an access token belongs to, as the operators table says now; 401 when the token
   * is not valid, its session has ended (signed out, or revoked for a reused refresh token) or the
   * operator is disabled. Looked up on every request (two index lookups), so a changed role or a
   * revocation counts from the next request, not when the token expires.
   */
  async authenticate(accessToken: string): Promise<Operator> {
    let claims: { sub?: string; sid?: unknown };
    try {
      ({ payload: claims } = await jwtVerify(accessToken, this.options.jwtSecret, {
        algorithms: ['HS256'],
        audience: 'tally-admin',
        issuer: 'tally-admin',
        requiredClaims: ['sub', 'sid'],
      }));
    } catch {
      throw unauthorized('The access token is not valid or has expired.');
    }
    const row = await this.operators.findInSession(
      this.dataSource.manager,
      String(claims.sub),
      String(claims.sid),
    );
    if (!row) throw unauthorized('The session has ended; sign in again.');
    return row;
  }

  private async issue(manager: EntityManager, operator: Operator, familyId: string): Promise<Tokens> {
    // sid: the session (refresh token family) the token belongs to, checked on every request.
    const accessToken = await new SignJWT({ role: operator.role, email: operator.email, sid: familyId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(operator.id)
      .setIssuer('tally-admin')
      .setAudience('tally-admin')
      .setIssuedAt()
      .setExpirationTime(`${this.options.accessTtlSeconds}s`)
      .sign(this.options.jwtSecret);
    const refreshToken = `rt_${randomBytes(32).toString('base64url')}`;
    await this.sessions.insert(manager, {
      id: newId('rt'),
      operatorId: operator.id,
      familyId,
      tokenHash: sha256(refreshToken),
      ttlSeconds: this.options.refreshTtlSeconds,
    });
    return { accessToken, refreshToken, expiresIn: this.options.accessTtlSeconds };
  }
}
