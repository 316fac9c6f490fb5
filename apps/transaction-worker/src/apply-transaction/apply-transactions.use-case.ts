import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  HoldNotActiveError,
  MessageTypes,
  assertTransition,
  available,
  checkRefund,
  isDomainError,
  isTerminal,
  post,
  releaseHold,
  sequenceEvents,
  type Posting,
  tallyEvent,
  type TallyEvent,
} from '#domain';
import { PermanentMessageError } from '#messaging';
import {
  AccountRepository,
  HoldRepository,
  LedgerEntryRepository,
  OutboxStore,
  TransactionRepository,
  transactionView,
  holdView,
  type HoldRecord,
  type TransactionRecord,
} from '#persistence';
import { eventMessage } from '../shared/events.js';
import { lowBalance } from '../shared/low-balance.js';
import { SystemAccounts } from '../shared/system-accounts.js';

export interface Applied {
  transactionId: string;
  status: 'succeeded' | 'failed' | 'already-final';
}

/**
 * Applies a set of pending transactions to the ledger inside the caller's database transaction,
 * with a fixed number of statements whatever the set's size:
 *   lock the transactions, then their refund parents, then the holds captures capture, then every
 *   account involved — each set in id order (one global order: no deadlocks between writers; holds
 *   always before accounts, as voids and the expiry sweep take them); check each transaction's rules in
 *   order against running balances; write balances, entries, statuses and outcome events in one
 *   statement each.
 * A broken business rule fails that transaction for good and the others go on; anything else
 * throws and the whole database transaction rolls back (the messages are retried).
 */
@Injectable()
export class ApplyTransactions {
  constructor(
    @Inject(SystemAccounts) private readonly systemAccounts: SystemAccounts,
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(LedgerEntryRepository) private readonly entries: LedgerEntryRepository,
    @Inject(HoldRepository) private readonly holds: HoldRepository,
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
    const holds = await this.holds.lockMany(
      manager,
      pending.filter((t) => t.type === 'capture').map((t) => t.holdId!),
    );

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
    const capturedHolds: HoldRecord[] = [];
    const releasedCaptures: string[] = [];
    const touchedHeld = new Set<string>();
    const events: TallyEvent<object>[] = [];
    for (const t of pending) {
      assertTransition(t.status, 'processing');
      const { from, to } = moves.get(t.id)!;
      const source = accounts.get(from)!;
      const destination = accounts.get(to)!;
      try {
        const parent = t.parentTransactionId ? parents.get(t.parentTransactionId) : undefined;
        if (parent) checkRefund(parent, t.amount);
        const hold = t.type === 'capture' ? this.holdFor(t, holds) : undefined;
        // A capture spends what its hold reserved: the hold is released, then the amount posted.
        const held = hold ? releaseHold(source, hold) : source.held;
        const moved = post({
          from: { ...source, held },
          to: destination,
          amount: t.amount,
          currency: t.currency,
        });
        const lowBefore = available(source);
        source.held = held;
        source.posted -= t.amount;
        destination.posted += t.amount;
        if (hold) {
          capturedHolds.push({ ...hold, status: 'captured', capturedAmount: t.amount });
          touchedHeld.add(source.id);
        }
        if (parent) {
          parent.refundedAmount += t.amount;
          refunded.set(parent.id, (refunded.get(parent.id) ?? 0n) + t.amount);
        }
        postings.push(...moved);
        entryGroups.push({ transaction: t, postings: moved });
        assertTransition('processing', 'succeeded');
        const done = { ...t, status: 'succeeded' as const, completedAt };
        finished.push(done);
        events.push(tallyEvent(MessageTypes.transactionSucceeded, t.tenantId, transactionView(done)));
        const low = lowBalance(source, lowBefore);
        if (low) events.push(tallyEvent(MessageTypes.accountBalanceLow, t.tenantId, low));
      } catch (error) {
        if (!isDomainError(error)) throw error;
        // A failed capture gives its hold back: it can be captured again, voided, or expire.
        if (t.type === 'capture' && holds.get(t.holdId!)?.captureTransactionId === t.id) {
          releasedCaptures.push(t.holdId!);
        }
        assertTransition('processing', 'failed');
        const done = {
          ...t,
          status: 'failed' as const,
          failureCode: error.code,
          failureMessage: error.message,
          completedAt,
        };
        finished.push(done);
        events.push(tallyEvent(MessageTypes.transactionFailed, t.tenantId, transactionView(done)));
      }
    }

    const captured = await this.holds.finishMany(manager, capturedHolds);
    for (const hold of captured) {
      events.push(tallyEvent(MessageTypes.holdCaptured, hold.tenantId, holdView(hold)));
    }
    // Numbered under the account locks held since the start: one order per account for webhooks.
    const numbered = sequenceEvents(events, accounts);
    await this.accounts.saveLocked(manager, accounts, [
      ...postings.map((p) => p.accountId),
      ...touchedHeld,
      ...numbered,
    ]);
    await this.entries.appendMany(manager, entryGroups);
    await this.transactions.finishMany(manager, finished);
    await this.transactions.addRefundedMany(manager, refunded);
    for (const holdId of releasedCaptures) await this.holds.markCapturing(manager, holdId, null);
    const correlation = new Map(pending.map((t) => [t.id, t.correlationId]));
    await this.outbox.enqueue(
      manager,
      events.map((e) => eventMessage(e, correlation.get((e.data as { id?: string }).id ?? '') ?? null)),
    );
    const statusOf = new Map(finished.map((t) => [t.id, t.status as 'succeeded' | 'failed']));
    return transactionIds.map((id) => ({ transactionId: id, status: statusOf.get(id) ?? 'already-final' }));
  }

  /** Which account pays (`from`) and which receives (`to`), by transaction type. */
  private async route(
    t: TransactionRecord,
    parents: Map<string, TransactionRecord>,
  ): Promise<{ from: string; to: string }> {
    const system = (kind: 'external' | 'revenue') => this.systemAccounts.id(t.tenantId, t.currency, kind);
    switch (t.type) {
      case 'deposit':
        return { from: await system('external'), to: t.destinationAccountId! };
      case 'withdrawal':
        return { from: t.sourceAccountId!, to: await system('external') };
      case 'transfer':
        return { from: t.sourceAccountId!, to: t.destinationAccountId! };
      case 'charge':
      case 'capture':
        return { from: t.sourceAccountId!, to: await system('revenue') };
      case 'adjustment':
        // An operator's correction, against the outside world: a credit has a destination, a debit a source.
        return t.destinationAccountId
          ? { from: await system('external'), to: t.destinationAccountId }
          : { from: t.sourceAccountId!, to: await system('external') };
      case 'refund': {
        const parent = parents.get(t.parentTransactionId!);
        if (!parent) throw new PermanentMessageError(`parent of ${t.id} is missing`, 'transaction_missing');
        // Money goes back the way it came.
        const from = parent.type === 'transfer' ? parent.destinationAccountId! : await system('revenue');
        return { from, to: parent.sourceAccountId! };
      }
    }
  }

  /** The hold a capture captures; it must still be spoken for by this very capture. */
  private holdFor(t: TransactionRecord, holds: Map<string, HoldRecord>): HoldRecord {
    const hold = holds.get(t.holdId ?? '');
    if (!hold) throw new PermanentMessageError(`hold of ${t.id} is missing`, 'hold_missing');
    if (hold.status !== 'active' || hold.captureTransactionId !== t.id) {
      throw new HoldNotActiveError(hold, new Date());
    }
    return hold;
  }
}
