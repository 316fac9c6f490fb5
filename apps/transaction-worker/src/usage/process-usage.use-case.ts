import { hostname } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AccountNotFoundError,
  MessageTypes,
  assessUsage,
  available,
  isDomainError,
  newId,
  parseJson,
  post,
  sequenceEvents,
  tallyEvent,
  type Posting,
  type TallyEvent,
  type UsageRecorded,
} from '#domain';
import {
  AccountRepository,
  LedgerEntryRepository,
  MeterRepository,
  OutboxStore,
  TransactionRepository,
  UsageRepository,
  type FailedUsage,
  type ProcessedUsage,
  type TransactionRecord,
} from '#persistence';
import { eventMessage } from '../shared/events.js';
import { lowBalance } from '../shared/low-balance.js';
import { SystemAccounts } from '../shared/system-accounts.js';

export interface UsageOptions {
  /** An event whose value reaches this (minor units) is categorised `high_value`. */
  highValueThreshold: bigint;
}

export interface UsageOutcome {
  processed: number;
  failed: number;
  charged: number;
  unbilled: number;
}

interface Charge {
  event: { id: string; type: string; correlationId: string | null };
  processed: ProcessedUsage;
  walletId: string;
  revenueId: string;
}

/** What charging a set of priced events wrote in memory, for the caller to store set-wise. */
interface Charged {
  transactions: TransactionRecord[];
  outcomes: { event: TallyEvent<object>; correlationId: string | null }[];
  unbilled: number;
}

/**
 * Processes a set of accepted usage events inside the caller's database transaction, with a fixed
 * number of statements whatever the set's size: lock the events still `received`; load their
 * meters; check each event's rules and price it (pure, in memory); lock the wallets and revenue
 * accounts in id order; charge in order of occurrence against running balances; then write the
 * charge transactions, balances, ledger entries, processed and failed rows, statuses and events in
 * one statement each. A wallet that cannot pay leaves the event processed but unbilled.
 */
@Injectable()
export class ProcessUsage {
  readonly workerId = `${hostname()}:${process.pid}`;

  constructor(
    @Inject(UsageRepository) private readonly usage: UsageRepository,
    @Inject(MeterRepository) private readonly meters: MeterRepository,
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(LedgerEntryRepository) private readonly entries: LedgerEntryRepository,
    @Inject(OutboxStore) private readonly outbox: OutboxStore,
    @Inject(SystemAccounts) private readonly systemAccounts: SystemAccounts,
    @Inject('USAGE_OPTIONS') private readonly options: UsageOptions,
  ) {}

  async execute(manager: EntityManager, command: UsageRecorded): Promise<UsageOutcome> {
    const { tenantId } = command;
    const events = (await this.usage.lockReceived(manager, tenantId, command.eventIds)).sort(
      (a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || (a.id < b.id ? -1 : 1),
    );
    if (events.length === 0) return { processed: 0, failed: 0, charged: 0, unbilled: 0 };
    const meters = await this.meters.forTypes(
      manager,
      tenantId,
      events.map((e) => e.type),
    );

    const processed: ProcessedUsage[] = [];
    const failed: FailedUsage[] = [];
    const charges: Charge[] = [];
    for (const event of events) {
      const assessment = assessUsage(
        {
          id: event.id,
          type: event.type,
          accountId: event.accountId,
          properties: parseJson(event.propertiesJson) as Record<string, unknown>,
        },
        meters.get(event.type),
        this.options.highValueThreshold,
      );
      if (!assessment.ok) {
        failed.push({
          tenantId,
          eventId: event.id,
          code: assessment.code,
          reason: assessment.message,
          workerId: this.workerId,
        });
        continue;
      }
      const priced = assessment.priced;
      const row: ProcessedUsage = {
        tenantId,
        eventId: event.id,
        type: event.type,
        accountId: event.accountId,
        occurredAt: event.occurredAt,
        category: assessment.category,
        workerId: this.workerId,
        meterId: priced?.meterId ?? null,
        quantity: priced?.quantity ?? null,
        amount: priced?.amount ?? null,
        currency: priced?.currency ?? null,
        billingStatus: priced ? 'charged' : 'not_metered',
        unbilledCode: null,
        unbilledReason: null,
        transactionId: null,
      };
      processed.push(row);
      if (priced && priced.amount > 0n) {
        charges.push({
          event,
          processed: row,
          walletId: event.accountId!,
          revenueId: await this.systemAccounts.id(tenantId, priced.currency, 'revenue'),
        });
      }
    }

    const { transactions, outcomes, unbilled } = await this.charge(manager, tenantId, charges);
    await this.usage.record(manager, tenantId, processed, failed);
    await this.outbox.enqueue(
      manager,
      outcomes.map((o) => eventMessage(o.event, o.correlationId)),
    );
    return { processed: processed.length, failed: failed.length, charged: transactions.length, unbilled };
  }

  /**
   * Charges events left unbilled again (an operator's re-bill, once the wallets can pay), at the
   * price they were given when processed. Locking their rows and taking only those still
   * `unbilled` makes it exactly-once: a re-bill sent twice, or racing another, charges each event
   * at most once; one that still cannot pay stays unbilled, with the new reason.
   */
  async rebill(manager: EntityManager, command: UsageRecorded): Promise<UsageOutcome> {
    const { tenantId } = command;
    const rows = (await this.usage.lockUnbilled(manager, tenantId, command.eventIds)).sort(
      (a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || (a.eventId < b.eventId ? -1 : 1),
    );
    const charges: Charge[] = [];
    for (const { correlationId, ...row } of rows) {
      row.billingStatus = 'charged';
      row.unbilledCode = null;
      row.unbilledReason = null;
      charges.push({
        event: { id: row.eventId, type: row.type, correlationId },
        processed: row,
        walletId: row.accountId!,
        revenueId: await this.systemAccounts.id(tenantId, row.currency!, 'revenue'),
      });
    }
    const { transactions, outcomes, unbilled } = await this.charge(manager, tenantId, charges);
    await this.usage.rebilled(
      manager,
      tenantId,
      charges.map((c) => c.processed),
    );
    await this.outbox.enqueue(
      manager,
      outcomes.map((o) => eventMessage(o.event, o.correlationId)),
    );
    return { processed: 0, failed: 0, charged: transactions.length, unbilled };
  }

  /**
   * Locks the wallets and revenue accounts in id order, charges in the given order against running
   * balances (a charge that breaks a rule leaves its row unbilled, with the reason), and writes the
   * charge transactions, balances and entries in one statement each.
   */
  private async charge(manager: EntityManager, tenantId: string, charges: Charge[]): Promise<Charged> {
    const accounts = await this.accounts.lockInOrder(
      manager,
      charges.flatMap((c) => [c.walletId, c.revenueId]),
    );
    const completedAt = new Date();
    const transactions: TransactionRecord[] = [];
    const postings: Posting[] = [];
    const entryGroups: { transaction: TransactionRecord; postings: Posting[] }[] = [];
    const outcomes: { event: TallyEvent<object>; correlationId: string | null }[] = [];
    let unbilled = 0;
    for (const { event, processed: row, walletId, revenueId } of charges) {
      const wallet = accounts.get(walletId);
      const revenue = accounts.get(revenueId)!;
      const priced = {
        meterId: row.meterId,
        quantity: row.quantity!,
        amount: row.amount!,
        currency: row.currency!,
      };
      const about = { eventId: event.id, type: event.type, accountId: walletId, ...priced };
      try {
        if (!wallet || wallet.tenantId !== tenantId || wallet.kind !== 'customer') {
          throw new AccountNotFoundError(walletId);
        }
        const moved = post({ from: wallet, to: revenue, amount: priced.amount, currency: priced.currency });
        const before = available(wallet);
        wallet.posted -= priced.amount;
        revenue.posted += priced.amount;
        const t: TransactionRecord = {
          id: newId('txn'),
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
          createdAt: completedAt,
          completedAt,
        };
        row.transactionId = t.id;
        transactions.push(t);
        postings.push(...moved);
        entryGroups.push({ transaction: t, postings: moved });
        outcomes.push({
          event: tallyEvent(MessageTypes.usageCharged, tenantId, { ...about, transactionId: t.id }),
          correlationId: event.correlationId,
        });
        const low = lowBalance(wallet, before);
        if (low) {
          outcomes.push({
            event: tallyEvent(MessageTypes.accountBalanceLow, tenantId, low),
            correlationId: event.correlationId,
          });
        }
      } catch (error) {
        if (!isDomainError(error)) throw error;
        unbilled++;
        row.billingStatus = 'unbilled';
        row.unbilledCode = error.code;
        row.unbilledReason = error.message;
        outcomes.push({
          event: tallyEvent(MessageTypes.usageChargeFailed, tenantId, {
            ...about,
            failure: { code: error.code, message: error.message },
          }),
          correlationId: event.correlationId,
        });
      }
    }

    await this.transactions.insertCompleted(manager, transactions);
    // Numbered under the wallet locks: one order per account for webhooks.
    const numbered = sequenceEvents(
      outcomes.map((o) => o.event),
      accounts,
    );
    await this.accounts.saveLocked(manager, accounts, [...postings.map((p) => p.accountId), ...numbered]);
    await this.entries.appendMany(manager, entryGroups);
    return { transactions, outcomes, unbilled };
  }
}
