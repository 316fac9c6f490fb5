import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { canonicalJson, isDomainError, stringifyJson } from '#domain';
import { Correlation } from '#observability';
import { IdempotencyStore, OutboxSignal, SecretBox, answerContext, type StoredAnswer } from '#persistence';
import { ApiError, ValidationError, problemOf } from '#http';

/** What a write answered; kept so a retry with the same key gets the very same answer. */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
  /**
   * The body carries a secret (a webhook signing secret, shown once): it is kept encrypted, as
   * the endpoint keeps it, so a replay can show it again but the database never holds it in clear.
   */
  secret?: boolean;
}

export interface IdempotentCall {
  tenantId: string;
  /** The Idempotency-Key header; a route that requires it has refused its absence already. */
  key: string | undefined;
  method: string;
  path: string;
  body: unknown;
}

export interface Outcome {
  status: number;
  /** JSON text of the body, exactly as first sent. */
  text: string;
  contentType: string;
  headers: Record<string, string>;
  replayed: boolean;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

const inFlight = () =>
  new ApiError(
    409,
    'idempotency_key_in_use',
    'A request with this Idempotency-Key is still being handled.',
    undefined,
    {
      'Retry-After': '1',
    },
  );

/**
 * Idempotency-Key handling, scoped per tenant, in the same database transaction as the write:
 * a transaction-scoped advisory lock on (tenant, key) marks the request in flight (a concurrent
 * duplicate gets 409 at once), a stored answer is replayed, and otherwise the write and its
 * answer commit together — one commit per request, and nothing left behind by a crash.
 * Business refusals (4xx) are stored and replayed like successes; unexpected failures store
 * nothing, so the client can retry.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OutboxSignal) private readonly outboxSignal: OutboxSignal,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore,
  ) {}

  /** Runs `work` idempotently; after a fresh write commits, outbox relays are told at once. */
  async execute(
    call: IdempotentCall,
    work: (manager: EntityManager) => Promise<StoredResponse>,
  ): Promise<Outcome> {
    const outcome = await this.run(call, work);
    if (!outcome.replayed) this.outboxSignal.committed();
    return outcome;
  }

  private async run(
    call: IdempotentCall,
    work: (manager: EntityManager) => Promise<StoredResponse>,
  ): Promise<Outcome> {
    const key = checkKey(call);
    if (key === undefined) return fresh(await this.dataSource.transaction(work));
    const fingerprint = fingerprintOf(call);
    try {
      return await this.dataSource.transaction(async (manager) => {
        const { locked, stored } = await this.store.lockAndFind(manager, call.tenantId, key);
        if (!locked) throw inFlight();
        if (stored) return this.replay(call.tenantId, key, stored, fingerprint);
        const result = await work(manager);
        const outcome = fresh(result);
        // A plain INSERT: the key's primary key is what makes the work happen once. (The lock
        // above answers concurrent duplicates early, but a duplicate whose snapshot predates the
        // first request's commit can take the lock after it is released without seeing the
        // stored answer; its INSERT then fails here and its work rolls back.)
        await this.store.insert(
          manager,
          {
            tenantId: call.tenantId,
            key,
            fingerprint,
            status: outcome.status,
            body: result.secret
              ? this.box.seal(outcome.text, answerContext(call.tenantId, key))
              : outcome.text,
            headers: outcome.headers,
          },
          'strict',
        );
        return outcome;
      });
    } catch (error) {
      return this.afterFailure(call.tenantId, key, fingerprint, error);
    }
  }

  /**
   * What a request whose work failed answers. A concurrent request with the same key may have
   * stored its answer meanwhile — one that committed just before this one took the key's lock,
   * unseen by the lock statement's snapshot, whose effects then made this one's work refuse (the
   * hold already captured, say) — and that answer is the key's: replayed. Otherwise a business
   * refusal is stored as the key's answer (unless another lands first: then that one is
   * replayed), and the failure is answered.
   */
  private async afterFailure(
    tenantId: string,
    key: string,
    fingerprint: string,
    error: unknown,
  ): Promise<Outcome> {
    if (await this.storeRefusal(tenantId, key, fingerprint, error)) throw error;
    const stored = await this.store.find(this.dataSource.manager, tenantId, key);
    if (stored) return this.replay(tenantId, key, stored, fingerprint);
    throw isDuplicateKey(error) ? inFlight() : error;
  }

  /**
   * The fast path for a write that fits in one SQL statement (an implicit transaction: one round
   * trip, no BEGIN/COMMIT). `attempt` runs a statement that takes the key's advisory lock, checks
   * what it must, and only then inserts the answer into idempotency_keys (ON CONFLICT DO NOTHING)
   * and the write itself conditional on that insert. It answers whether it got the lock, the
   * response it wrote (null when it wrote nothing) and, when it wrote nothing because a check
   * failed, the refusal. A stored answer is replayed before any refusal.
   */
  async executeInOneStatement(
    call: IdempotentCall & { key: string },
    attempt: (record: { tenantId: string; key: string; fingerprint: string }) => Promise<{
      locked: boolean;
      written: StoredResponse | null;
      refusal: Error | null;
    }>,
  ): Promise<Outcome> {
    const key = checkKey(call)!;
    const fingerprint = fingerprintOf(call);
    const result = await attempt({ tenantId: call.tenantId, key, fingerprint });
    if (result.written) {
      this.outboxSignal.committed();
      return fresh(result.written);
    }
    if (!result.locked) throw inFlight();
    const stored = await this.store.find(this.dataSource.manager, call.tenantId, key);
    if (stored) return this.replay(call.tenantId, key, stored, fingerprint);
    if (!result.refusal) throw inFlight();
    return this.afterFailure(call.tenantId, key, fingerprint, result.refusal);
  }

  /**
   * Business refusals (4xx) are stored and replayed like answers; nothing else is. Answers
   * whether this refusal is now the key's answer (false: not a refusal, or another answer was
   * stored first).
   */
  private async storeRefusal(
    tenantId: string,
    key: string,
    fingerprint: string,
    error: unknown,
  ): Promise<boolean> {
    const refusal = error instanceof ApiError || isDomainError(error);
    const { problem, headers } = problemOf(error, Correlation.id() ?? '');
    if (
      !refusal ||
      problem.status >= 500 ||
      ['idempotency_key_in_use', 'idempotency_key_reused'].includes(problem.code)
    ) {
      return false;
    }
    return this.store.insert(
      this.dataSource.manager,
      { tenantId, key, fingerprint, status: problem.status, body: stringifyJson(problem), headers },
      'ignore',
    );
  }

  /** The stored answer, again (opened, if it was stored encrypted). */
  private replay(tenantId: string, key: string, stored: StoredAnswer, fingerprint: string): Outcome {
    if (stored.fingerprint !== fingerprint) {
      throw new ApiError(
        422,
        'idempotency_key_reused',
        'This Idempotency-Key was used with a different request (method, path or body).',
      );
    }
    return {
      status: stored.response_status,
      text: this.box.open(stored.response_body, answerContext(tenantId, key)),
      contentType: stored.response_status >= 400 ? 'application/problem+json' : 'application/json',
      headers: stored.response_headers ?? {},
      replayed: true,
    };
  }
}

/** The call's key, checked; undefined when there is none. */
function checkKey(call: IdempotentCall): string | undefined {
  if (call.key === undefined) return undefined;
  if (!KEY_PATTERN.test(call.key)) {
    throw new ValidationError([
      { field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' },
    ]);
  }
  return call.key;
}

function isDuplicateKey(error: unknown): boolean {
  const e = error as {
    code?: string;
    constraint?: string;
    driverError?: { code?: string; constraint?: string };
  };
  const pg = e.driverError ?? e;
  return pg.code === '23505' && pg.constraint === 'idempotency_keys_pkey';
}

function fresh(response: StoredResponse): Outcome {
  return {
    status: response.status,
    text: stringifyJson(response.body),
    contentType: 'application/json',
    headers: response.headers,
    replayed: false,
  };
}

/** Same method, path and body (keys in any order) ⇒ same fingerprint. */
export function fingerprintOf(call: Pick<IdempotentCall, 'method' | 'path' | 'body'>): string {
  return createHash('sha256')
    .update(`${call.method.toUpperCase()} ${call.path}\n${canonicalJson(call.body)}`)
    .digest('hex');
}
