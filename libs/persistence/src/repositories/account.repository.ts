import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ExternalRefTakenError, lockOrder, newId, type AccountKind, type LedgerAccount } from '#domain';

export interface AccountRecord extends LedgerAccount {
  tenantId: string;
  externalRef: string | null;
  version: bigint;
  /** How many events about this account were written (each event carries its number). */
  eventSeq: bigint;
  lowBalanceThreshold: bigint | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
}

interface AccountRow {
  id: string;
  tenant_id: string;
  kind: AccountKind;
  currency: string;
  external_ref: string | null;
  status: 'active' | 'frozen';
  posted: string;
  held: string;
  version: string;
  event_seq: string;
  low_balance_threshold: string | null;
  metadata: Record<string, unknown>;
  created_at: Date;
}

const COLUMNS = `id, tenant_id, kind, currency, external_ref, status, posted, held, version, event_seq,
  low_balance_threshold, metadata, created_at`;

function toRecord(row: AccountRow): AccountRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    currency: row.currency,
    externalRef: row.external_ref,
    status: row.status,
    posted: BigInt(row.posted),
    held: BigInt(row.held),
    version: BigInt(row.version),
    eventSeq: BigInt(row.event_seq),
    lowBalanceThreshold: row.low_balance_threshold === null ? null : BigInt(row.low_balance_threshold),
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

/** Accounts, always read inside a tenant. System accounts (external, revenue) are created on demand. */
@Injectable()
export class AccountRepository {
  async create(
    manager: EntityManager,
    input: {
      tenantId: string;
      currency: string;
      externalRef: string | null;
      metadata: Record<string, unknown>;
      lowBalanceThreshold: bigint | null;
    },
  ): Promise<AccountRecord> {
    try {
      const [row] = await manager.query(
        `INSERT INTO accounts (id, tenant_id, kind, currency, external_ref, metadata, low_balance_threshold)
         VALUES ($1, $2, 'customer', $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [
          newId('acc'),
          input.tenantId,
          input.currency,
          input.externalRef,
          JSON.stringify(input.metadata),
          input.lowBalanceThreshold?.toString() ?? null,
        ],
      );
      return toRecord(row);
    } catch (error) {
      if ((error as { constraint?: string }).constraint === 'accounts_external_ref_key') {
        throw new ExternalRefTakenError(input.externalRef ?? '');
      }
      throw error;
    }
  }

  /** A customer account of this tenant, or null (another tenant's account does not exist here). */
  async find(manager: EntityManager, tenantId: string, id: string): Promise<AccountRecord | null> {
    const rows: AccountRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM accounts WHERE id = $1 AND tenant_id = $2 AND kind = 'customer'`,
      [id, tenantId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Several customer accounts of this tenant, by id (missing ones are simply absent). */
  async findMany(
    manager: EntityManager,
    tenantId: string,
    ids: string[],
  ): Promise<Map<string, AccountRecord>> {
    if (ids.length === 0) return new Map();
    const rows: AccountRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM accounts WHERE id = ANY($1::text[]) AND tenant_id = $2 AND kind = 'customer'`,
      [ids, tenantId],
    );
    return new Map(rows.map((r) => [r.id, toRecord(r)]));
  }

  /**
   * Which of `ids` are customer accounts of this tenant: their ids only (an accept of usage checks
   * up to 500 events' accounts and reads nothing else of them).
   */
  async existing(manager: EntityManager, tenantId: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM accounts WHERE id = ANY($1::text[]) AND tenant_id = $2 AND kind = 'customer'`,
      [ids, tenantId],
    );
    return new Set(rows.map((r) => r.id));
  }

  async list(
    manager: EntityManager,
    tenantId: string,
    filter: { externalRef?: string; before?: string; limit: number },
  ): Promise<AccountRecord[]> {
    const rows: AccountRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM accounts
        WHERE tenant_id = $1 AND kind = 'customer'
          AND ($2::text IS NULL OR external_ref = $2)
          AND ($3::text IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4`,
      [tenantId, filter.externalRef ?? null, filter.before ?? null, filter.limit],
    );
    return rows.map(toRecord);
  }

  /** The tenant's external-world or revenue account in a currency, created the first time it is needed. */
  async systemAccountId(
    manager: EntityManager,
    tenantId: string,
    currency: string,
    kind: 'external' | 'revenue',
  ) {
    await manager.query(
      `INSERT INTO accounts (id, tenant_id, kind, currency) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, currency, kind) WHERE kind <> 'customer' DO NOTHING`,
      [newId('acc'), tenantId, kind, currency],
    );
    const [row] = await manager.query(
      `SELECT id FROM accounts WHERE tenant_id = $1 AND currency = $2 AND kind = $3`,
      [tenantId, currency, kind],
    );
    return row.id as string;
  }

  /**
   * Locks the accounts in id order (one global order: no deadlocks between writers) and returns
   * them by id. FOR NO KEY UPDATE is exclusive between writers but, unlike FOR UPDATE, does not
   * conflict with the FOR KEY SHARE locks that foreign-key checks take when the gateway inserts a
   * transaction referencing these accounts; with FOR UPDATE those two orders deadlock.
   */
  async lockInOrder(manager: EntityManager, ids: string[]): Promise<Map<string, AccountRecord>> {
    const rows: AccountRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM accounts WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [lockOrder(ids)],
    );
    return new Map(rows.map((r) => [r.id, toRecord(r)]));
  }

  /**
   * A customer account of this tenant, locked for a balance change (FOR NO KEY UPDATE, as
   * `lockInOrder` explains), or null.
   */
  async lockOne(manager: EntityManager, tenantId: string, id: string): Promise<AccountRecord | null> {
    const rows: AccountRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM accounts WHERE id = $1 AND tenant_id = $2 AND kind = 'customer' FOR NO KEY UPDATE`,
      [id, tenantId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }
}
