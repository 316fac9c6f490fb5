import type { DataSource } from 'typeorm';

export interface LedgerCheck {
  name: string;
  violations: number;
  examples: Record<string, unknown>[];
}

export interface LedgerReport {
  ok: boolean;
  counts: { transactions: number; entries: number; accounts: number };
  checks: LedgerCheck[];
}

const CHECKS: { name: string; sql: string }[] = [
  {
    name: "every transaction's entries sum to zero",
    sql: `SELECT transaction_id, sum(amount)::text AS sum FROM ledger_entries GROUP BY transaction_id HAVING sum(amount) <> 0`,
  },
  {
    name: 'every account balance equals the sum of its entries',
    sql: `SELECT a.id, a.posted::text, coalesce(s.total, 0)::text AS entries_sum FROM accounts a
            LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_entries GROUP BY account_id) s ON s.account_id = a.id
           WHERE a.posted <> coalesce(s.total, 0)`,
  },
  {
    name: "every account balance equals its last entry's balance_after",
    sql: `SELECT a.id, a.posted::text, last.balance_after::text FROM accounts a
            JOIN LATERAL (SELECT balance_after FROM ledger_entries e WHERE e.account_id = a.id ORDER BY seq DESC LIMIT 1) last ON true
           WHERE last.balance_after <> a.posted`,
  },
  {
    name: "every entry's balance_after follows from the one before",
    sql: `SELECT id, account_id, balance_after::text, prev::text, amount::text FROM (
            SELECT id, account_id, balance_after, amount,
                   lag(balance_after, 1, 0::bigint) OVER (PARTITION BY account_id ORDER BY seq) AS prev
              FROM ledger_entries) x
           WHERE prev + amount <> balance_after`,
  },
  {
    name: 'no customer account is below zero',
    sql: `SELECT id, posted::text, held::text FROM accounts WHERE kind = 'customer' AND (posted < 0 OR posted - held < 0 OR held < 0)`,
  },
  {
    name: 'every succeeded transaction has entries',
    sql: `SELECT id FROM transactions t WHERE status = 'succeeded'
             AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id)`,
  },
  {
    name: 'no failed or unfinished transaction has entries',
    sql: `SELECT id, status FROM transactions t WHERE status <> 'succeeded'
             AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id)`,
  },
  {
    name: 'refunds never exceed what they refund',
    sql: `SELECT p.id, p.amount::text, p.refunded_amount::text, coalesce(r.total, 0)::text AS refunds FROM transactions p
            LEFT JOIN (SELECT parent_transaction_id, sum(amount) AS total FROM transactions
                        WHERE type = 'refund' AND status = 'succeeded' GROUP BY parent_transaction_id) r
                   ON r.parent_transaction_id = p.id
           WHERE p.refunded_amount <> coalesce(r.total, 0) OR coalesce(r.total, 0) > p.amount`,
  },
  {
    name: "every account's held balance equals its active holds",
    sql: `SELECT a.id, a.held::text, coalesce(h.total, 0)::text AS active_holds FROM accounts a
            LEFT JOIN (SELECT account_id, sum(amount) AS total FROM holds WHERE status = 'active' GROUP BY account_id) h
                   ON h.account_id = a.id
           WHERE a.held <> coalesce(h.total, 0)`,
  },
  {
    name: 'every captured hold has one succeeded capture of its captured amount, and no other hold has one',
    sql: `SELECT h.id, h.status, h.captured_amount::text, t.id AS capture, t.amount::text AS capture_amount FROM holds h
            LEFT JOIN transactions t ON t.hold_id = h.id AND t.status = 'succeeded'
           WHERE (h.status = 'captured') <> (t.id IS NOT NULL) OR t.amount <> h.captured_amount`,
  },
  {
    name: 'every billed usage event has a succeeded charge of its amount',
    sql: `SELECT p.tenant_id, p.event_id, p.amount::text, t.status, t.amount::text AS charged FROM usage_processed p
            LEFT JOIN transactions t ON t.id = p.transaction_id
           WHERE p.billing_status = 'charged' AND p.amount > 0
             AND (t.id IS NULL OR t.status <> 'succeeded' OR t.amount <> p.amount)`,
  },
  {
    name: "each tenant's accounts sum to zero per currency",
    sql: `SELECT tenant_id, currency, sum(posted)::text AS sum FROM accounts GROUP BY tenant_id, currency HAVING sum(posted) <> 0`,
  },
];

/** Checks the double-entry invariants over the whole database. Read-only. */
export async function verifyLedger(dataSource: DataSource): Promise<LedgerReport> {
  return dataSource.transaction('REPEATABLE READ', async (manager) => {
    await manager.query('SET TRANSACTION READ ONLY');
    const checks: LedgerCheck[] = [];
    for (const check of CHECKS) {
      const rows: Record<string, unknown>[] = await manager.query(check.sql);
      checks.push({ name: check.name, violations: rows.length, examples: rows.slice(0, 5) });
    }
    const [counts] = await manager.query(
      `SELECT (SELECT count(*) FROM transactions)::int AS transactions,
              (SELECT count(*) FROM ledger_entries)::int AS entries,
              (SELECT count(*) FROM accounts)::int AS accounts`,
    );
    return { ok: checks.every((c) => c.violations === 0), counts, checks };
  });
}
