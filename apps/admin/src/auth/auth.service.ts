import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';
import { SignJWT, jwtVerify } from 'jose';
import { DataSource, type EntityManager } from 'typeorm';
import { newId } from '#domain';
import { AuditLog } from '../audit/audit-log.js';
import { unauthorized } from '../http/admin-error.js';

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
}

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
    @Inject('AUTH_OPTIONS') private readonly options: AuthOptions,
  ) {}

  /** The first admin, from ADMIN_EMAIL and ADMIN_PASSWORD, when there is no operator yet. */
  async onApplicationBootstrap(): Promise<void> {
    const boot = this.options.bootstrap;
    if (!boot) return;
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`LOCK TABLE operators IN SHARE ROW EXCLUSIVE MODE`);
      const [{ n }] = await manager.query(`SELECT count(*)::int AS n FROM operators`);
      if (n > 0) return;
      const operator = await this.createOperator(manager, null, boot.email, boot.password, 'admin');
      this.log.log(`created the first admin operator ${operator.id}`);
    });
  }

  async createOperator(
    manager: EntityManager,
    actorId: string | null,
    email: string,
    password: string,
    role: Role,
  ): Promise<Operator> {
    const id = newId('op');
    await manager.query(`INSERT INTO operators (id, email, password_hash, role) VALUES ($1, $2, $3, $4)`, [
      id,
      email,
      await hash(password, ARGON2),
      role,
    ]);
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
    const [row]: { id: string; email: string; role: Role; password_hash: string }[] =
      await this.dataSource.query(
        `SELECT id, email, role, password_hash FROM operators WHERE lower(email) = lower($1) AND status = 'active'`,
        [email],
      );
    // Same work whether or not the operator exists: no telling which emails are registered.
    this.dummyHash ??= hash(randomBytes(16).toString('hex'), ARGON2);
    const ok = await verify(row?.password_hash ?? (await this.dummyHash), password);
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
        const [row]: {
          id: string;
          family_id: string;
          operator_id: string;
          used_at: Date | null;
          revoked_at: Date | null;
          expired: boolean;
          email: string;
          role: Role;
          status: string;
        }[] = await manager.query(
          `SELECT r.id, r.family_id, r.operator_id, r.used_at, r.revoked_at, r.expires_at < now() AS expired,
                o.email, o.role, o.status
           FROM refresh_tokens r JOIN operators o ON o.id = r.operator_id
          WHERE r.token_hash = $1 FOR UPDATE OF r`,
          [sha256(refreshToken)],
        );
        if (!row || row.revoked_at || row.expired || row.status !== 'active') {
          throw unauthorized('The refresh token is not valid.');
        }
        if (row.used_at) {
          await this.revokeFamily(manager, row.family_id);
          await this.audit.record(manager, {
            operatorId: row.operator_id,
            action: 'auth.refresh_reuse',
            targetType: 'operator',
            targetId: row.operator_id,
            reason: 'a spent refresh token was presented again; every session of its family is revoked',
            details: { family: row.family_id },
          });
          return null;
        }
        await manager.query(`UPDATE refresh_tokens SET used_at = now() WHERE id = $1`, [row.id]);
        return this.issue(manager, { id: row.operator_id, email: row.email, role: row.role }, row.family_id);
      })
      .then((tokens) => {
        // The revocation above must commit even though the caller is refused.
        if (!tokens) throw unauthorized('The refresh token was already used; the session is revoked.');
        return tokens;
      });
  }

  async logout(refreshToken: string): Promise<void> {
    const [row]: { family_id: string; operator_id: string }[] = await this.dataSource.query(
      `SELECT family_id, operator_id FROM refresh_tokens WHERE token_hash = $1`,
      [sha256(refreshToken)],
    );
    if (!row) return;
    await this.revokeFamily(this.dataSource.manager, row.family_id);
    await this.audit.record(this.dataSource.manager, {
      operatorId: row.operator_id,
      action: 'auth.logout',
      targetType: 'operator',
      targetId: row.operator_id,
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
    const [row]: { id: string; email: string; role: Role }[] = await this.dataSource.query(
      `SELECT o.id, o.email, o.role FROM operators o
        WHERE o.id = $1 AND o.status = 'active'
          AND EXISTS (SELECT 1 FROM refresh_tokens r
                       WHERE r.family_id = $2 AND r.operator_id = o.id AND r.revoked_at IS NULL)`,
      [claims.sub, String(claims.sid)],
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
    await manager.query(
      `INSERT INTO refresh_tokens (id, operator_id, family_id, token_hash, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [newId('rt'), operator.id, familyId, sha256(refreshToken), this.options.refreshTtlSeconds],
    );
    return { accessToken, refreshToken, expiresIn: this.options.accessTtlSeconds };
  }

  private async revokeFamily(manager: EntityManager, familyId: string): Promise<void> {
    await manager.query(
      `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`,
      [familyId],
    );
  }
}
