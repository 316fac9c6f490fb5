import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { newId, type Posting } from '#domain';
import { queryPreparedIn, type AccountRecord } from '#persistence';

/**
 * The only SQL that writes accounts and ledger entries (a lint rule keeps it so): the ledger calls
 * it under the account locks it holds.
 */
@Injectable()
export class LedgerStore {
  /**
   * Sets posted and held balances, and the event counters, computed under this transaction's locks
   * (one statement for all accounts; a counter not given is left as it is).
   */
  async setBalances(
    manager: EntityManager,
    balances: { accountId: string; posted: bigint; held: bigint; eventSeq?: bigint }[],
  ): Promise<void> {
    if (balances.length === 0) return;
    await manager.query(
      `UPDATE accounts a SET posted = d.posted, held = d.held, event_seq = coalesce(d.event_seq, a.event_seq),
              version = a.version + 1, updated_at = now()
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[]) AS d(id, posted, held, event_seq)
        WHERE a.id = d.id`,
      [
        balances.map((b) => b.accountId),
        balances.map((b) => b.posted.toString()),
        balances.map((b) => b.held.toString()),
        balances.map((b) => b.eventSeq?.toString() ?? null),
      ],
    );
  }

  /** setBalances for every account in `ids`: their balances and event counters as they are in `accounts`. */
  async saveLocked(manager: EntityManager, accounts: Map<string, AccountRecord>, ids: Iterable<string>) {
    await this.setBalances(
      manager,
      [...new Set(ids)].map((id) => {
        const a = accounts.get(id)!;
        return { accountId: id, posted: a.posted, held: a.held, eventSeq: a.eventSeq };
      }),
    );
  }

  /**
   * Appends the entries of several transactions in one statement. Entries are inserted, never
   * changed (the database enforces it).
   */
  async appendMany(
    manager: EntityManager,
    groups: { transaction: { id: string; tenantId: string; currency: string }; postings: Posting[] }[],
  ): Promise<void> {
    const rows = groups.flatMap((g) => g.postings.map((p) => ({ t: g.transaction, p })));
    if (rows.length === 0) return;
    await queryPreparedIn(
      manager,
      'tally_ledger_append_many',
      `INSERT INTO ledger_entries (id, tenant_id, transaction_id, account_id, amount, balance_after, currency)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[])`,
      [
        rows.map(() => newId('ent')),
        rows.map((r) => r.t.tenantId),
        rows.map((r) => r.t.id),
        rows.map((r) => r.p.accountId),
        rows.map((r) => r.p.amount.toString()),
        rows.map((r) => r.p.balanceAfter.toString()),
        rows.map((r) => r.t.currency),
      ],
    );
  }

  /** Freezes or unfreezes a customer account; false when there is no such account. */
  async setStatus(manager: EntityManager, id: string, status: 'active' | 'frozen'): Promise<boolean> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE accounts SET status = $2, updated_at = now() WHERE id = $1 AND kind = 'customer' RETURNING id`,
      [id, status],
    );
    return rows.length === 1;
  }
}
