import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { isDomainError } from '#domain';
import { Correlation } from '#observability';
import { stringifyJson } from '../http/json.js';
import { ApiError, ValidationError, problemOf } from '../http/problem.js';

/** What a write answered; kept so a retry with the same key gets the very same answer. */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export interface IdempotentCall {
  tenantId: string;
  key: string | undefined;
  /** Routes where API.md makes the header mandatory. */
  required: boolean;
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
const IN_FLIGHT_LEASE = '30 seconds'; // a crashed request's key can be taken over after this

/**
 * Idempotency-Key handling, scoped per tenant. The key is claimed in its own short transaction
 * (so a concurrent duplicate sees it in flight: 409); the write and the stored answer then
 * commit together in one transaction. Business refusals (4xx) are stored and replayed like
 * successes; unexpected failures release the key so the client can retry.
 */
@Injectable()
export class IdempotencyService {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async execute(
    call: IdempotentCall,
    work: (manager: EntityManager) => Promise<StoredResponse>,
  ): Promise<Outcome> {
    if (call.key === undefined) {
      if (call.required) {
        throw new ApiError(400, 'idempotency_key_required', 'This request needs an Idempotency-Key header.');
      }
      return this.fresh(await this.dataSource.transaction(work));
    }
    if (!KEY_PATTERN.test(call.key)) {
      throw new ValidationError([
        { field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' },
      ]);
    }
    const fingerprint = fingerprintOf(call);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.claim(call.tenantId, call.key, fingerprint)) return this.run(call, work);
      const existing = await this.find(call.tenantId, call.key);
      if (!existing) continue; // released between our two statements: claim again
      if (existing.fingerprint !== fingerprint) {
        throw new ApiError(
          422,
          'idempotency_key_reused',
          'This Idempotency-Key was used with a different request (method, path or body).',
        );
      }
      if (existing.status === 'in_progress') {
        throw new ApiError(
          409,
          'idempotency_key_in_use',
          'A request with this Idempotency-Key is still being handled.',
          undefined,
          {
            'Retry-After': '1',
          },
        );
      }
      return {
        status: existing.response_status,
        text: existing.response_body,
        contentType: existing.response_status >= 400 ? 'application/problem+json' : 'application/json',
        headers: existing.response_headers ?? {},
        replayed: true,
      };
    }
    throw new ApiError(
      409,
      'idempotency_key_in_use',
      'A request with this Idempotency-Key is still being handled.',
    );
  }

  private async run(
    call: IdempotentCall,
    work: (manager: EntityManager) => Promise<StoredResponse>,
  ): Promise<Outcome> {
    const key = call.key!;
    try {
      const response = await this.dataSource.transaction(async (manager) => {
        const result = await work(manager);
        await this.complete(
          manager,
          call.tenantId,
          key,
          result.status,
          stringifyJson(result.body),
          result.headers,
        );
        return result;
      });
      return this.fresh(response);
    } catch (error) {
      const refusal = error instanceof ApiError || isDomainError(error);
      const { problem, headers } = problemOf(error, Correlation.id() ?? '');
      if (refusal && problem.status < 500 && problem.status !== 409 && problem.status !== 429) {
        await this.complete(
          this.dataSource.manager,
          call.tenantId,
          key,
          problem.status,
          stringifyJson(problem),
          headers,
        );
      } else {
        await this.dataSource
          .query(
            `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND status = 'in_progress'`,
            [call.tenantId, key],
          )
          .catch(() => undefined); // the lease expires anyway
      }
      throw error;
    }
  }

  private fresh(response: StoredResponse): Outcome {
    return {
      status: response.status,
      text: stringifyJson(response.body),
      contentType: 'application/json',
      headers: response.headers,
      replayed: false,
    };
  }

  private async claim(tenantId: string, key: string, fingerprint: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, status, locked_until)
       VALUES ($1, $2, $3, 'in_progress', now() + interval '${IN_FLIGHT_LEASE}')
       ON CONFLICT (tenant_id, key) DO UPDATE
          SET locked_until = EXCLUDED.locked_until, created_at = now()
        WHERE idempotency_keys.status = 'in_progress'
          AND idempotency_keys.locked_until < now()
          AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
       RETURNING 1`,
      [tenantId, key, fingerprint],
    );
    return rows.length === 1;
  }

  private async find(tenantId: string, key: string) {
    const rows: {
      fingerprint: string;
      status: 'in_progress' | 'completed';
      response_status: number;
      response_body: string;
      response_headers: Record<string, string> | null;
    }[] = await this.dataSource.query(
      `SELECT fingerprint, status, response_status, response_body, response_headers
         FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`,
      [tenantId, key],
    );
    return rows[0];
  }

  private async complete(
    manager: EntityManager,
    tenantId: string,
    key: string,
    status: number,
    body: string,
    headers: Record<string, string>,
  ): Promise<void> {
    await manager.query(
      `UPDATE idempotency_keys
          SET status = 'completed', response_status = $3, response_body = $4, response_headers = $5
        WHERE tenant_id = $1 AND key = $2`,
      [tenantId, key, status, body, JSON.stringify(headers)],
    );
  }
}

/** Same method, path and body (keys in any order) ⇒ same fingerprint. */
export function fingerprintOf(call: Pick<IdempotentCall, 'method' | 'path' | 'body'>): string {
  return createHash('sha256')
    .update(`${call.method.toUpperCase()} ${call.path}\n${stringifyJson(canonical(call.body))}`)
    .digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object' && value.constructor === Object) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
