import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AccountNotFoundError,
  HOLD_EXPIRY_SECONDS,
  HoldNotActiveError,
  assertTransition,
  authorizeHold,
  available,
  checkRefund,
  isDomainError,
  newId,
  post,
  releaseHold,
  routeOf,
  sequenceEvents,
  holdView,
  transactionView,
  type CorrelatedEvent,
  type Posting,
  type RouteSide,
  type TallyEvent,
} from '#domain';
import {
  Commands,
  Events,
  PermanentMessageError,
  eventMessages,
  type TransactionEventData,
} from '#messaging';
import {
  AccountRepository,
  HoldRepository,
  OutboxStore,
  TransactionRepository,
  type AccountRecord,
  type HoldInsert,
  type HoldRecord,
  type TransactionRecord,
} from '#persistence';
import { LedgerStore } from './ledger.store.js';
import { lowBalance } from './low-balance.js';
import { SystemAccounts } from './system-accounts.js';

/** What applying a pending transaction came to. */
export interface Applied {
  transactionId: string;
  /** `processing`: a withdrawal whose funds are now held while a payment provider pays it out. */
  status: 'succeeded' | 'failed' | 'processing' | 'already-final';
}

/** What a payment provider made of a withdrawal's payout: paid (the held funds are spent) or not. */
export type PayoutSettlement =
  | { transactionId: string; outcome: 'succeeded' }
  | { transactionId: string; outcome: 'failed'; failure: { code: string; message: string } };

/** A usage charge: the wallet pays the tenant's revenue account, decided and posted at once. */
export interface LedgerCharge {
  /** The usage event charged (its id, type and correlation id go into the outcome event). */
  usageEvent: { id: string; type: string; correlationId: string | null };
  /**
   * The id its `charge` transaction gets if the wallet pays, chosen by the caller, so that it can
   * write what refers to the charge before the ledger locks the wallets.
   */
  transactionId: string;
  walletId: string;
  meterId: string | null;
  quantity: bigint;
  amount: bigint;
  currency: string;
}

/**
 * A charge's outcome: null failure when the wallet paid (the `charge` transaction has the id the
 * caller chose, `LedgerCharge.transactionId`), or why it could not.
 */
export interface ChargeOutcome {
  failure: { code: string; message: string } | null;
}

/** A hold to place on a customer account (the ledger gives it its id). */
export type NewHold = Omit<HoldInsert, 'id'>;

/** A transaction to be applied later by the worker (its command goes out with it). */
export type NewTransaction = Omit<
  TransactionRecord,
  'refundedAmount' | 'failureCode' | 'failureMessage' | 'completedAt' | 'createdAt'
>;

/** What to apply, one kind of change per call, each applied set-wise. */
export type LedgerBatch =
  /**
   * Pending transactions (deposits … refunds, captures, adjustments, re-runs), by id. With
   * `payouts`, a withdrawal is not posted: its funds are held (the same checks) and it stays
   * `processing` until its payout is settled.
   */
  | { kind: 'transactions'; ids: string[]; payouts?: boolean }
  /** Withdrawals in `processing` whose payout has an outcome (others are left as they are). */
  | { kind: 'settle'; payouts: PayoutSettlement[] }
  /** Usage charges of one tenant, in the order given. */
  | { kind: 'charges'; tenantId: string; charges: LedgerCharge[] }
  /** A hold placed: available funds move to held. */
  | { kind: 'reserve'; hold: NewHold }
  /** Holds the caller has locked, released as voided or expired. */
  | { kind: 'release'; holds: HoldRecord[]; status: 'voided' | 'expired' };

export interface LedgerResults {
  transactions: Applied[];
  settle: Applied[];
  charges: ChargeOutcome[];
  reserve: HoldRecord;
  release: HoldRecord[];
}

/** Changes computed in memory under the account locks, written by `write` in one statement each. */
interface Written {
  accounts: Map<string, AccountRecord>;
  postings: Posting[];
  /** Accounts whose balances changed without a posting (held). */
  touched: Iterable<string>;
  entryGroups: { transaction: { id: string; tenantId: string; currency: string }; postings: Posting[] }[];
  events: CorrelatedEvent[];
}

/**
 * The one place money moves. Every change to account balances and to the ledger goes through
 * `apply`, inside the caller's database transaction: routing by transaction type onto customer and
 * system accounts, holds reserved, released and captured, postings checked by the rules of
 * libs/domain, balances, entries, low-balance detection and the outcome events (outbox rows).
 *
 * Locks, always in this order, each set in id order (one global order: no deadlocks between
 * writers): transactions, then their refund parents, then holds, then accounts. Callers that lock
 * holds themselves (a void, the expiry sweep, a capture request) do so before calling. Each kind
 * of batch runs a fixed number of statements whatever its size.
 */
@Injectable()
export class Ledger {
  constructor(
    @Inject(SystemAccounts) private readonly systemAccounts: SystemAccounts,
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(HoldRepository) private readonly holds: HoldRepository,
    @Inject(LedgerStore) private readonly store: LedgerStore,
    @Inject(OutboxStore) private readonly outbox: OutboxStore,
  ) {}

  apply<B extends LedgerBatch>(manager: EntityManager, batch: B): Promise<LedgerResults[B['kind']]>;
  async apply(manager: EntityManager, batch: LedgerBatch): Promise<LedgerResults[LedgerBatch['kind']]> {
    switch (batch.kind) {
      case 'transactions':
        return this.applyTransactions(manager, batch.ids, batch.payouts ?? false);
      case 'settle':
        return this.settle(manager, batch.payouts);
      case 'charges':
        return this.charge(manager, batch.tenantId, batch.charges);
      case 'reserve':
        return this.reserve(manager, batch.hold);
      case 'release':
        return this.release(manager, batch.holds, batch.status);
    }
  }

  /**
   * Records a pending transaction and its `transaction.requested` command in one statement: the
   * worker applies it (`apply`, kind `transactions`) when the command arrives.
   */
  request(manager: EntityManager, t: NewTransaction): Promise<TransactionRecord> {
    return this.transactions.insert(manager, t, [
      Commands.transactionRequested({ transactionId: t.id, tenantId: t.tenantId }, t.correlationId),
    ]);
  }

  /**
   * Freezes a customer account (no money moves in or out of it) or unfreezes it; false when there
   * is no such account. Its row lock orders it with the postings around it.
   */
  setStatus(manager: EntityManager, accountId: string, status: 'active' | 'frozen'): Promise<boolean> {
    return this.store.setStatus(manager, accountId, status);
  }

  /**
   * Lock the transactions, then their refund parents, then the holds captures capture, then every
   * account involved; check each transaction's rules in order against running balances; write
   * balances, entries, statuses and outcome events in one statement each. A broken business rule
   * fails that transaction for good and the others go on; anything else throws and the whole
   * database transaction rolls back (the messages are retried).
   */
  private async applyTransactions(
    manager: EntityManager,
    transactionIds: string[],
    payouts: boolean,
  ): Promise<Applied[]> {
    const locked = await this.transactions.lockMany(manager, transactionIds);
    for (const id of transactionIds) {
      if (!locked.has(id))
        throw new PermanentMessageError(`transaction ${id} does not exist`, 'transaction_missing');
    }
    // Final, or `processing` (a withdrawal out with the provider): a redelivery changes nothing.
    const pending = [...new Set(transactionIds)]
      .map((id) => locked.get(id)!)
      .filter((t) => t.status === 'pending');
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

    const postings: Posting[] = [];
    const entryGroups: { transaction: TransactionRecord; postings: Posting[] }[] = [];
    const finished: TransactionRecord[] = [];
    const refunded = new Map<string, bigint>();
    const capturedHolds: HoldRecord[] = [];
    const releasedCaptures: string[] = [];
    const touchedHeld = new Set<string>();
    const payoutHolds: HoldInsert[] = [];
    const processing: { id: string; holdId: string }[] = [];
    const events: TallyEvent<object>[] = [];
    // Outcome views, completed at the time the database gives their rows (set as they are written).
    const views = new Map<string, TransactionEventData>();
    const viewOf = (done: TransactionRecord) => {
      const view = transactionView(done);
      views.set(done.id, view);
      return view;
    };
    for (const t of pending) {
      assertTransition(t.status, 'processing');
      const { from, to } = moves.get(t.id)!;
      const source = accounts.get(from)!;
      const destination = accounts.get(to)!;
      try {
        if (payouts && t.type === 'withdrawal') {
          // The provider pays it: the funds are held at once (spoken for by this withdrawal, so
          // neither expiry nor a void releases them); `settle` spends or releases them.
          const lowBefore = available(source);
          source.held = authorizeHold(source, t.amount, t.currency);
          const holdId = newId('hold');
          payoutHolds.push({
            id: holdId,
            tenantId: t.tenantId,
            accountId: source.id,
            amount: t.amount,
            currency: t.currency,
            expiresInSeconds: HOLD_EXPIRY_SECONDS.max,
            correlationId: t.correlationId,
            captureTransactionId: t.id,
          });
          processing.push({ id: t.id, holdId });
          touchedHeld.add(source.id);
          const low = lowBalance(source, lowBefore);
          if (low) events.push(Events.accountBalanceLow(t.tenantId, low));
          continue;
        }
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
        const done = { ...t, status: 'succeeded' as const };
        finished.push(done);
        events.push(Events.transactionSucceeded(t.tenantId, viewOf(done)));
        const low = lowBalance(source, lowBefore);
        if (low) events.push(Events.accountBalanceLow(t.tenantId, low));
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
        };
        finished.push(done);
        events.push(Events.transactionFailed(t.tenantId, viewOf(done)));
      }
    }

    const captured = await this.holds.finishMany(manager, capturedHolds);
    for (const hold of captured) events.push(Events.holdCaptured(hold.tenantId, holdView(hold)));
    for (const hold of payoutHolds) await this.holds.insert(manager, hold);
    await this.transactions.markProcessing(manager, processing);
    const correlation = new Map(pending.map((t) => [t.id, t.correlationId]));
    await this.write(manager, {
      accounts,
      postings,
      touched: touchedHeld,
      entryGroups,
      events: events.map((event) => ({
        event,
        correlationId: correlation.get((event.data as { id?: string }).id ?? '') ?? null,
      })),
      beforeEvents: async () => {
        const completedAt = await this.transactions.finishMany(manager, finished);
        for (const [id, view] of views) view.completedAt = completedAt.get(id)!.toISOString();
        await this.transactions.addRefundedMany(manager, refunded);
        for (const holdId of releasedCaptures) await this.holds.markCapturing(manager, holdId, null);
      },
    });
    const statusOf = new Map<string, Applied['status']>(
      finished.map((t) => [t.id, t.status as 'succeeded' | 'failed']),
    );
    for (const p of processing) statusOf.set(p.id, 'processing');
    return transactionIds.map((id) => ({ transactionId: id, status: statusOf.get(id) ?? 'already-final' }));
  }

  /**
   * Settles withdrawals whose payouts have an outcome: locks them, their holds, then their
   * accounts; a paid one spends its hold (released, then the amount posted to the outside world,
   * as a capture does), a failed one gives it back. Only a withdrawal still `processing` is
   * settled: a second settlement of one is answered `already-final`. Hold events are not sent:
   * the hold is the withdrawal's own, never the tenant's.
   */
  private async settle(manager: EntityManager, settlements: PayoutSettlement[]): Promise<Applied[]> {
    const locked = await this.transactions.lockMany(
      manager,
      settlements.map((s) => s.transactionId),
    );
    const live = settlements.filter((s) => {
      const t = locked.get(s.transactionId);
      return t?.type === 'withdrawal' && t.status === 'processing' && t.holdId !== null;
    });
    if (live.length === 0)
      return settlements.map((s) => ({ transactionId: s.transactionId, status: 'already-final' }));
    const holds = await this.holds.lockMany(
      manager,
      live.map((s) => locked.get(s.transactionId)!.holdId!),
    );
    const moves = new Map<string, { from: string; to: string }>();
    for (const s of live)
      moves.set(s.transactionId, await this.route(locked.get(s.transactionId)!, new Map()));
    const accounts = await this.accounts.lockInOrder(
      manager,
      [...moves.values()].flatMap((m) => [m.from, m.to]),
    );

    const postings: Posting[] = [];
    const entryGroups: { transaction: TransactionRecord; postings: Posting[] }[] = [];
    const finished: TransactionRecord[] = [];
    const finishedHolds: { id: string; status: 'captured' | 'voided'; capturedAmount: bigint | null }[] = [];
    const touched = new Set<string>();
    const events: TallyEvent<object>[] = [];
    const views = new Map<string, TransactionEventData>();
    for (const s of live) {
      const t = locked.get(s.transactionId)!;
      const hold = holds.get(t.holdId!);
      if (!hold || hold.status !== 'active' || hold.captureTransactionId !== t.id)
        throw new Error(`the hold of withdrawal ${t.id} is not its own active hold`);
      const { from, to } = moves.get(t.id)!;
      const source = accounts.get(from)!;
      const destination = accounts.get(to)!;
      const held = releaseHold(source, hold);
      touched.add(source.id);
      let done: TransactionRecord;
      if (s.outcome === 'succeeded') {
        // The money has left already: a freeze since cannot stop it being recorded.
        const moved = post({
          from: { ...source, held, status: 'active' },
          to: destination,
          amount: t.amount,
          currency: t.currency,
        });
        source.held = held;
        source.posted -= t.amount;
        destination.posted += t.amount;
        postings.push(...moved);
        entryGroups.push({ transaction: t, postings: moved });
        finishedHolds.push({ id: hold.id, status: 'captured', capturedAmount: t.amount });
        assertTransition('processing', 'succeeded');
        done = { ...t, status: 'succeeded' };
        const view = transactionView(done);
        views.set(t.id, view);
        events.push(Events.transactionSucceeded(t.tenantId, view));
      } else {
        source.held = held;
        finishedHolds.push({ id: hold.id, status: 'voided', capturedAmount: null });
        assertTransition('processing', 'failed');
        done = { ...t, status: 'failed', failureCode: s.failure.code, failureMessage: s.failure.message };
        const view = transactionView(done);
        views.set(t.id, view);
        events.push(Events.transactionFailed(t.tenantId, view));
      }
      finished.push(done);
    }
    await this.holds.finishMany(manager, finishedHolds);
    const correlation = new Map(
      live.map((s) => [s.transactionId, locked.get(s.transactionId)!.correlationId]),
    );
    await this.write(manager, {
      accounts,
      postings,
      touched,
      entryGroups,
      events: events.map((event) => ({
        event,
        correlationId: correlation.get((event.data as { id?: string }).id ?? '') ?? null,
      })),
      beforeEvents: async () => {
        const completedAt = await this.transactions.finishMany(manager, finished);
        for (const [id, view] of views) view.completedAt = completedAt.get(id)!.toISOString();
      },
    });
    const statusOf = new Map(finished.map((t) => [t.id, t.status as 'succeeded' | 'failed']));
    return settlements.map((s) => ({
      transactionId: s.transactionId,
      status: statusOf.get(s.transactionId) ?? 'already-final',
    }));
  }

  /**
   * Locks the wallets and revenue accounts in id order, charges in the given order against running
   * balances (a charge that breaks a rule is answered with its reason), and writes the charge
   * transactions, balances, entries and outcome events in one statement each.
   */
  private async charge(
    manager: EntityManager,
    tenantId: string,
    charges: LedgerCharge[],
  ): Promise<ChargeOutcome[]> {
    const revenueIds: string[] = [];
    for (const c of charges) revenueIds.push(await this.systemAccounts.id(tenantId, c.currency, 'revenue'));
    const accounts = await this.accounts.lockInOrder(
      manager,
      charges.flatMap((c, i) => [c.walletId, revenueIds[i]!]),
    );
    const transactions: Omit<TransactionRecord, 'createdAt' | 'completedAt'>[] = [];
    const postings: Posting[] = [];
    const entryGroups: Written['entryGroups'] = [];
    const events: CorrelatedEvent[] = [];
    const outcomes: ChargeOutcome[] = [];
    charges.forEach((c, i) => {
      const { usageEvent: event, walletId } = c;
      const wallet = accounts.get(walletId);
      const revenue = accounts.get(revenueIds[i]!)!;
      const priced = { meterId: c.meterId, quantity: c.quantity, amount: c.amount, currency: c.currency };
      const about = { eventId: event.id, type: event.type, accountId: walletId, ...priced };
      try {
        if (!wallet || wallet.tenantId !== tenantId || wallet.kind !== 'customer') {
          throw new AccountNotFoundError(walletId);
        }
        const moved = post({ from: wallet, to: revenue, amount: priced.amount, currency: priced.currency });
        const before = available(wallet);
        wallet.posted -= priced.amount;
        revenue.posted += priced.amount;
        const t: Omit<TransactionRecord, 'createdAt' | 'completedAt'> = {
          id: c.transactionId,
          tenantId,
          type: 'charge',
          status: 'succeeded',
          amount: priced.amount,
          currency: priced.currency,
          sourceAccountId: walletId,
          destinationAccountId: null,
          parentTransactionId: null,
          holdId: null,
          refundedAmount: 0n,
          description: `Usage: ${event.type}`,
          metadata: { usageEventId: event.id, meterId: priced.meterId, quantity: priced.quantity.toString() },
          failureCode: null,
          failureMessage: null,
          correlationId: event.correlationId,
        };
        transactions.push(t);
        postings.push(...moved);
        entryGroups.push({ transaction: t, postings: moved });
        outcomes.push({ failure: null });
        events.push({
          event: Events.usageCharged(tenantId, { ...about, transactionId: t.id }),
          correlationId: event.correlationId,
        });
        const low = lowBalance(wallet, before);
        if (low) {
          events.push({
            event: Events.accountBalanceLow(tenantId, low),
            correlationId: event.correlationId,
          });
        }
      } catch (error) {
        if (!isDomainError(error)) throw error;
        const failure = { code: error.code, message: error.message };
        outcomes.push({ failure });
        events.push({
          event: Events.usageChargeFailed(tenantId, { ...about, failure }),
          correlationId: event.correlationId,
        });
      }
    });

    await this.transactions.insertCompleted(manager, transactions);
    await this.write(manager, { accounts, postings, touched: [], entryGroups, events });
    return outcomes;
  }

  /** Locks the account, checks available funds, moves the amount to held, records the hold. */
  private async reserve(manager: EntityManager, input: NewHold): Promise<HoldRecord> {
    const account = await this.accounts.lockOne(manager, input.tenantId, input.accountId);
    if (!account) throw new AccountNotFoundError(input.accountId);
    account.held = authorizeHold(account, input.amount, input.currency);
    const hold = await this.holds.insert(manager, { ...input, id: newId('hold'), accountId: account.id });
    await this.write(manager, {
      accounts: new Map([[account.id, account]]),
      postings: [],
      touched: [account.id],
      entryGroups: [],
      events: [
        { event: Events.holdCreated(hold.tenantId, holdView(hold)), correlationId: hold.correlationId },
      ],
    });
    return hold;
  }

  /** Locks the holds' accounts in id order, gives back what they held, and marks them `status`. */
  private async release(
    manager: EntityManager,
    holds: HoldRecord[],
    status: 'voided' | 'expired',
  ): Promise<HoldRecord[]> {
    if (holds.length === 0) return [];
    const accounts = await this.accounts.lockInOrder(
      manager,
      holds.map((h) => h.accountId),
    );
    for (const hold of holds) {
      const account = accounts.get(hold.accountId);
      if (!account) throw new Error(`account ${hold.accountId} of hold ${hold.id} is missing`);
      account.held = releaseHold(account, hold);
    }
    const finished = await this.holds.finishMany(
      manager,
      holds.map((h) => ({ id: h.id, status, capturedAmount: null })),
    );
    const announce = status === 'voided' ? Events.holdVoided : Events.holdExpired;
    await this.write(manager, {
      accounts,
      postings: [],
      touched: accounts.keys(),
      entryGroups: [],
      events: finished.map((hold) => ({
        event: announce(hold.tenantId, holdView(hold)),
        correlationId: hold.correlationId,
      })),
    });
    return finished;
  }

  /**
   * Numbers the events under the account locks held since the start (one order per account for
   * webhooks), then writes balances and event counters, entries, and the events.
   */
  private async write(
    manager: EntityManager,
    w: Written & { beforeEvents?: () => Promise<void> },
  ): Promise<void> {
    const numbered = sequenceEvents(
      w.events.map((e) => e.event),
      w.accounts,
    );
    await this.store.saveLocked(manager, w.accounts, [
      ...w.postings.map((p) => p.accountId),
      ...w.touched,
      ...numbered,
    ]);
    await this.store.appendMany(manager, w.entryGroups);
    await w.beforeEvents?.();
    await this.outbox.enqueue(manager, eventMessages(w.events));
  }

  /** Which account pays (`from`) and which receives (`to`): the rule, with system accounts resolved. */
  private async route(
    t: TransactionRecord,
    parents: Map<string, TransactionRecord>,
  ): Promise<{ from: string; to: string }> {
    const parent = t.type === 'refund' ? parents.get(t.parentTransactionId!) : undefined;
    if (t.type === 'refund' && !parent) {
      throw new PermanentMessageError(`parent of ${t.id} is missing`, 'transaction_missing');
    }
    const { from, to } = routeOf(t, parent);
    const resolve = (side: RouteSide) =>
      'account' in side ? side.account : this.systemAccounts.id(t.tenantId, t.currency, side.system);
    return { from: await resolve(from), to: await resolve(to) };
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
