import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface EntryRecord {
  id: string;
  seq: bigint;
  transactionId: string;
  accountId: string;
  amount: bigint;
  balanceAfter: bigint;
  createdAt: Date;
}

/** Reads of the append-only ledger (libs/ledger writes it). */
@Injectable()
export class LedgerEntryRepository {
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
