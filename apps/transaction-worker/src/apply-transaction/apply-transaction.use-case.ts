import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  MessageTypes,
  assertTransition,
  available,
  checkRefund,
  isDomainError,
  isTerminal,
  newId,
  post,
  type TallyEvent,
} from '#domain';
import { Exchanges, PermanentMessageError } from '#messaging';
import { Correlation } from '#observability';
import {
  AccountRepository,
  LedgerEntryRepository,
  OutboxStore,
  TransactionRepository,
  transactionView,
  type AccountRecord,
  type TransactionRecord,
} from '#persistence';

/**
 * Applies one pending transaction to the ledger, inside the caller's database transaction:
 * lock the transaction (a final one is left alone), lock the accounts in id order, check the
 * rules, post balanced entries, update balances, finish the transaction and write its outcome
 * event. A broken business rule fails the transaction for good; anything else throws, the
 * whole database transaction rolls back and the message is retried.
 */
@Injectable()
export class ApplyTransaction {
  constructor(
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(LedgerEntryRepository) private readonly entries: LedgerEntryRepository,
    @Inject(OutboxStore) private readonly outbox: OutboxStore,
  ) {}

  async execute(manager: EntityManager, transactionId: string): Promise<TransactionRecord | null> {
    const txn = await this.transactions.lock(manager, transactionId);
    if (!txn)
      throw new PermanentMessageError(`transaction ${transactionId} does not exist`, 'transaction_missing');
    if (isTerminal(txn.status)) return null; // already applied: sticky
    assertTransition(txn.status, 'processing');

    let outcome: TransactionRecord;
    const events: TallyEvent[] = [];
    try {
      const { from, to, parent } = await this.resolve(manager, txn);
      const locked = await this.accounts.lockInOrder(manager, [from, to]);
      const source = locked.get(from)!;
      const destination = locked.get(to)!;
      if (parent) checkRefund(parent, txn.amount); // re-checked under the parent's lock
      const postings = post({ from: source, to: destination, amount: txn.amount, currency: txn.currency });

      await this.accounts.applyPostedDeltas(manager, postings);
      await this.entries.append(manager, txn.tenantId, txn.id, txn.currency, postings);
      if (parent) await this.transactions.addRefunded(manager, parent.id, txn.amount);
      assertTransition('processing', 'succeeded');
      outcome = await this.transactions.finish(manager, txn.id, 'succeeded', null);
      events.push(this.event(MessageTypes.transactionSucceeded, txn.tenantId, transactionView(outcome)));
      const low = this.lowBalance(source, txn.amount);
      if (low) events.push(this.event(MessageTypes.accountBalanceLow, txn.tenantId, low));
    } catch (error) {
      if (!isDomainError(error)) throw error;
      assertTransition('processing', 'failed');
      outcome = await this.transactions.finish(manager, txn.id, 'failed', {
        code: error.code,
        message: error.message,
      });
      events.push(this.event(MessageTypes.transactionFailed, txn.tenantId, transactionView(outcome)));
    }

    await this.outbox.enqueue(
      manager,
      events.map((e) => ({
        exchange: Exchanges.events,
        routingKey: e.type,
        payload: e,
        messageId: e.id,
        correlationId: txn.correlationId ?? Correlation.id() ?? null,
      })),
    );
    return outcome;
  }

  /** Which account pays (`from`) and which receives (`to`), by transaction type. */
  private async resolve(
    manager: EntityManager,
    txn: TransactionRecord,
  ): Promise<{ from: string; to: string; parent?: TransactionRecord }> {
    const system = (kind: 'external' | 'revenue') =>
      this.accounts.systemAccountId(manager, txn.tenantId, txn.currency, kind);
    switch (txn.type) {
      case 'deposit':
        return { from: await system('external'), to: txn.destinationAccountId! };
      case 'withdrawal':
        return { from: txn.sourceAccountId!, to: await system('external') };
      case 'transfer':
        return { from: txn.sourceAccountId!, to: txn.destinationAccountId! };
      case 'charge':
        return { from: txn.sourceAccountId!, to: await system('revenue') };
      case 'refund': {
        // Lock the parent first: concurrent refunds of one parent queue up here, never overshoot.
        const parent = await this.transactions.lock(manager, txn.parentTransactionId!);
        if (!parent) throw new PermanentMessageError(`parent of ${txn.id} is missing`, 'transaction_missing');
        const from = parent.type === 'charge' ? await system('revenue') : parent.destinationAccountId!;
        return { from, to: parent.sourceAccountId!, parent };
      }
    }
  }

  /** `account.balance_low` once per crossing: the debit takes available from ≥ threshold to below it. */
  private lowBalance(account: AccountRecord, debit: bigint) {
    if (account.kind !== 'customer' || account.lowBalanceThreshold === null) return null;
    const before = available(account);
    const after = before - debit;
    if (before < account.lowBalanceThreshold || after >= account.lowBalanceThreshold) return null;
    return {
      accountId: account.id,
      currency: account.currency,
      available: after,
      threshold: account.lowBalanceThreshold,
    };
  }

  private event(type: string, tenantId: string, data: object): TallyEvent {
    return {
      id: newId('evt'),
      type,
      tenantId,
      createdAt: new Date().toISOString(),
      data: data as Record<string, unknown>,
    };
  }
}
