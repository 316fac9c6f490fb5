import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { queryPreparedIn } from '../prepared.js';
import { newId, type Posting } from '#domain';

export interface EntryRecord {
  id: string;
  seq: bigint;
  transactionId: string;
  accountId: string;
  amount: bigint;
  balanceAfter: bigint;
  createdAt: Date;
}

/** The append-only ledger. Entries are inserted, never changed (the database enforces it). */
@Injectable()
export class LedgerEntryRepository {
  /** Appends the entries of several transactions in one statement. */
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

  async listForAccount(
    manager: EntityManager,
    accountId: string,
    filter: { beforeSeq?: bigint; limit: number },
  ): Promise<EntryRecord[]> {
    const rows: {
      id: string;
      seq: string;
      transaction_id: string;
      account_id: string;
      amount: string;
      balance_after: string;
      created_at: Date;
    }[] = await manager.query(
      `SELECT id, seq, transaction_id, account_id, amount, balance_after, created_at FROM ledger_entries
        WHERE account_id = $1 AND ($2::bigint IS NULL OR seq < $2) ORDER BY seq DESC LIMIT $3`,
      [accountId, filter.beforeSeq?.toString() ?? null, filter.limit],
    );
    return rows.map((r) => ({
      id: r.id,
      seq: BigInt(r.seq),
      transactionId: r.transaction_id,
      accountId: r.account_id,
      amount: BigInt(r.amount),
      balanceAfter: BigInt(r.balance_after),
      createdAt: r.created_at,
    }));
  }
}
