import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  MessageTypes,
  assertTransition,
  available,
  checkRefund,
  isDomainError,
  isTerminal,
  newId,
  post,
  type Posting,
  type TallyEvent,
} from '#domain';
import { Exchanges, PermanentMessageError } from '#messaging';
import {
  AccountRepository,
  LedgerEntryRepository,
  OutboxStore,
  TransactionRepository,
  transactionView,
  type AccountRecord,
  type TransactionRecord,
} from '#persistence';

export interface Applied {
  transactionId: string;
  status: 'succeeded' | 'failed' | 'already-final';
}

/**
 * Applies a set of pending transactions to the ledger inside the caller's database transaction,
 * with a fixed number of statements whatever the set's size:
 *   lock the transactions, then their refund parents, then every account involved — each set in
 *   id order (one global order: no deadlocks between writers); check each transaction's rules in
 *   order against running balances; write balances, entries, statuses and outcome events in one
 *   statement each.
 * A broken business rule fails that transaction for good and the others go on; anything else
 * throws and the whole database transaction rolls back (the messages are retried).
 */
@Injectable()
export class ApplyTransactions {
  private readonly systemAccounts = new Map<string, string>();

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(LedgerEntryRepository) private readonly entries: LedgerEntryRepository,
    @Inject(OutboxStore) private readonly outbox: OutboxStore,
  ) {}

  async execute(manager: EntityManager, transactionIds: string[]): Promise<Applied[]> {
    const locked = await this.transactions.lockMany(manager, transactionIds);
    for (const id of transactionIds) {
      if (!locked.has(id))
        throw new PermanentMessageError(`transaction ${id} does not exist`, 'transaction_missing');
    }
    const pending = [...new Set(transactionIds)]
      .map((id) => locked.get(id)!)
      .filter((t) => !isTerminal(t.status));
    if (pending.length === 0)
      return transactionIds.map((id) => ({ transactionId: id, status: 'already-final' }));

    const parentIds = pending.filter((t) => t.type === 'refund').map((t) => t.parentTransactionId!);
    const parents = await this.transactions.lockMany(
      manager,
      parentIds.filter((id) => !locked.has(id)),
    );
    for (const [id, t] of locked) if (parentIds.includes(id)) parents.set(id, t);

    const moves = new Map<string, { from: string; to: string }>();
    for (const t of pending) moves.set(t.id, await this.route(t, parents));
    const accounts = await this.accounts.lockInOrder(
      manager,
      [...moves.values()].flatMap((m) => [m.from, m.to]),
    );

    const completedAt = new Date();
    const postings: Posting[] = [];
    const entryGroups: { transaction: TransactionRecord; postings: Posting[] }[] = [];
    const finished: TransactionRecord[] = [];
    const refunded = new Map<string, bigint>();
    const events: TallyEvent[] = [];
    for (const t of pending) {
      assertTransition(t.status, 'processing');
      const { from, to } = moves.get(t.id)!;
      const source = accounts.get(from)!;
      const destination = accounts.get(to)!;
      try {
        const parent = t.parentTransactionId ? parents.get(t.parentTransactionId) : undefined;
        if (parent) checkRefund(parent, t.amount);
        const moved = post({ from: source, to: destination, amount: t.amount, currency: t.currency });
        const lowBefore = available(source);
        source.posted -= t.amount;
        destination.posted += t.amount;
        if (parent) {
          parent.refundedAmount += t.amount;
          refunded.set(parent.id, (refunded.get(parent.id) ?? 0n) + t.amount);
        }
        postings.push(...moved);
        entryGroups.push({ transaction: t, postings: moved });
        assertTransition('processing', 'succeeded');
        const done = { ...t, status: 'succeeded' as const, completedAt };
        finished.push(done);
        events.push(event(MessageTypes.transactionSucceeded, t.tenantId, transactionView(done)));
        const low = lowBalance(source, lowBefore, t.amount);
        if (low) events.push(event(MessageTypes.accountBalanceLow, t.tenantId, low));
      } catch (error) {
        if (!isDomainError(error)) throw error;
        assertTransition('processing', 'failed');
        const done = {
          ...t,
          status: 'failed' as const,
          failureCode: error.code,
          failureMessage: error.message,
          completedAt,
        };
        finished.push(done);
        events.push(event(MessageTypes.transactionFailed, t.tenantId, transactionView(done)));
      }
    }

    const touched = new Set(postings.map((p) => p.accountId));
    await this.accounts.setPosted(
      manager,
      [...touched].map((id) => ({ accountId: id, posted: accounts.get(id)!.posted })),
    );
    await this.entries.appendMany(manager, entryGroups);
    await this.transactions.finishMany(manager, finished);
    await this.transactions.addRefundedMany(manager, refunded);
    const correlation = new Map(pending.map((t) => [t.id, t.correlationId]));
    await this.outbox.enqueue(
      manager,
      events.map((e) => ({
        exchange: Exchanges.events,
        routingKey: e.type,
        payload: e,
        messageId: e.id,
        correlationId: correlation.get((e.data as { id?: string }).id ?? '') ?? null,
      })),
    );
    const statusOf = new Map(finished.map((t) => [t.id, t.status as 'succeeded' | 'failed']));
    return transactionIds.map((id) => ({ transactionId: id, status: statusOf.get(id) ?? 'already-final' }));
  }

  /** Which account pays (`from`) and which receives (`to`), by transaction type. */
  private async route(
    t: TransactionRecord,
    parents: Map<string, TransactionRecord>,
  ): Promise<{ from: string; to: string }> {
    const system = (kind: 'external' | 'revenue') => this.systemAccount(t.tenantId, t.currency, kind);
    switch (t.type) {
      case 'deposit':
        return { from: await system('external'), to: t.destinationAccountId! };
      case 'withdrawal':
        return { from: t.sourceAccountId!, to: await system('external') };
      case 'transfer':
        return { from: t.sourceAccountId!, to: t.destinationAccountId! };
      case 'charge':
        return { from: t.sourceAccountId!, to: await system('revenue') };
      case 'refund': {
        const parent = parents.get(t.parentTransactionId!);
        if (!parent) throw new PermanentMessageError(`parent of ${t.id} is missing`, 'transaction_missing');
        // Money goes back the way it came.
        const from = parent.type === 'charge' ? await system('revenue') : parent.destinationAccountId!;
        return { from, to: parent.sourceAccountId! };
      }
    }
  }

  /**
   * System accounts never change once created, so their ids are remembered. They are created in
   * a transaction of their own (committed at once), never rolled back with a failed batch.
   */
  private async systemAccount(tenantId: string, currency: string, kind: 'external' | 'revenue') {
    const key = `${tenantId}/${currency}/${kind}`;
    let id = this.systemAccounts.get(key);
    if (!id) {
      id = await this.accounts.systemAccountId(this.dataSource.manager, tenantId, currency, kind);
      this.systemAccounts.set(key, id);
    }
    return id;
  }
}

/** `account.balance_low` once per crossing: the debit takes available from ≥ threshold to below it. */
function lowBalance(account: AccountRecord, before: bigint, debit: bigint) {
  if (account.kind !== 'customer' || account.lowBalanceThreshold === null) return null;
  const after = before - debit;
  if (before < account.lowBalanceThreshold || after >= account.lowBalanceThreshold) return null;
  return {
    accountId: account.id,
    currency: account.currency,
    available: after,
    threshold: account.lowBalanceThreshold,
  };
}

function event(type: string, tenantId: string, data: object): TallyEvent {
  return {
    id: newId('evt'),
    type,
    tenantId,
    createdAt: new Date().toISOString(),
    data: data as Record<string, unknown>,
  };
}
