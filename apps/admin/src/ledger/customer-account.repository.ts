import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface CustomerAccountRow {
  id: string;
  tenantId: string;
  currency: string;
  externalRef: string | null;
  status: string;
  posted: string;
  held: string;
  available: string;
  createdAt: Date;
}

const COLUMNS = `id, tenant_id AS "tenantId", currency, external_ref AS "externalRef", status, posted::text,
  held::text, (posted - held)::text AS available, created_at AS "createdAt"`;

/** Customer accounts across tenants, as operators see and freeze them (balances are the ledger's). */
@Injectable()
export class CustomerAccountRepository {
  /** Newest first, older than `before`. */
  async list(
    manager: EntityManager,
    f: { tenantId?: string; id?: string; before?: string; limit: number },
  ): Promise<CustomerAccountRow[]> {
    return manager.query(
      `SELECT ${COLUMNS} FROM accounts
        WHERE kind = 'customer' AND ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR id = $2)
          AND ($3::text IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4`,
      [f.tenantId ?? null, f.id ?? null, f.before ?? null, f.limit],
    );
  }

  async find(
    manager: EntityManager,
    id: string,
  ): Promise<(CustomerAccountRow & { lowBalanceThreshold: string | null }) | null> {
    const [row] = await manager.query(
      `SELECT ${COLUMNS}, low_balance_threshold::text AS "lowBalanceThreshold"
         FROM accounts WHERE id = $1 AND kind = 'customer'`,
      [id],
    );
    return row ?? null;
  }

  /** Its latest 100 ledger entries, newest first. */
  async recentEntries(manager: EntityManager, id: string) {
    return manager.query(
      `SELECT e.id, e.transaction_id AS "transactionId", t.type, e.amount::text, e.balance_after::text AS "balanceAfter",
              e.created_at AS "createdAt"
         FROM ledger_entries e JOIN transactions t ON t.id = e.transaction_id
        WHERE e.account_id = $1 ORDER BY e.seq DESC LIMIT 100`,
      [id],
    ) as Promise<
      {
        id: string;
        transactionId: string;
        type: string;
        amount: string;
        balanceAfter: string;
        createdAt: Date;
      }[]
    >;
  }

  /** The tenant and currency of a customer account, or null. */
  async tenantAndCurrency(
    manager: EntityManager,
    id: string,
  ): Promise<{ tenantId: string; currency: string } | null> {
    const [row] = await manager.query(
      `SELECT tenant_id AS "tenantId", currency FROM accounts WHERE id = $1 AND kind = 'customer'`,
      [id],
    );
    return row ?? null;
  }
}
