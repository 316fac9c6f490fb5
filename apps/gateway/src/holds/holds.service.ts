import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AccountFrozenError,
  AccountNotFoundError,
  HoldNotFoundError,
  MessageTypes,
  assertVoidable,
  authorizeHold,
  captureAmount,
  newId,
  releaseHold,
  sequenceEvents,
  tallyEvent,
  type TransactionRequested,
} from '#domain';
import { Exchanges } from '#messaging';
import {
  AccountRepository,
  HoldRepository,
  OutboxStore,
  TransactionRepository,
  holdView,
  type AccountRecord,
  type HoldRecord,
  type OutboxMessageInput,
  type TransactionRecord,
} from '#persistence';

/**
 * The `hold.*` event announcing the hold as it now is, numbered among its account's events (the
 * account is locked by the caller; its counter is written back with its balances).
 */
function announce(hold: HoldRecord, type: string, account: AccountRecord): OutboxMessageInput {
  const event = tallyEvent(type, hold.tenantId, holdView(hold));
  sequenceEvents([event], new Map([[account.id, account]]));
  return {
    exchange: Exchanges.events,
    routingKey: type,
    payload: event,
    messageId: event.id,
    correlationId: hold.correlationId,
  };
}

/**
 * Holds, decided at once in the caller's database transaction. Lock order: the hold, then its
 * account (as the worker and the expiry sweep do), so no two of them deadlock.
 */
@Injectable()
export class HoldsService {
  constructor(
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(HoldRepository) private readonly holds: HoldRepository,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
    @Inject(OutboxStore) private readonly outbox: OutboxStore,
  ) {}

  /** Locks the account, checks available funds, moves the amount to held, records the hold: 201 or 402. */
  async create(
    manager: EntityManager,
    tenantId: string,
    input: { accountId: string; amount: bigint; currency: string; expiresInSeconds: number },
    correlationId: string | null,
  ): Promise<HoldRecord> {
    const account = await this.accounts.lockOne(manager, tenantId, input.accountId);
    if (!account) throw new AccountNotFoundError(input.accountId);
    account.held = authorizeHold(account, input.amount, input.currency);
    const hold = await this.holds.insert(manager, {
      id: newId('hold'),
      tenantId,
      accountId: account.id,
      amount: input.amount,
      currency: input.currency,
      expiresInSeconds: input.expiresInSeconds,
      correlationId,
    });
    const announced = announce(hold, MessageTypes.holdCreated, account);
    await this.accounts.saveLocked(manager, new Map([[account.id, account]]), [account.id]);
    await this.outbox.enqueue(manager, [announced]);
    return hold;
  }

  /**
   * Requests the capture: a pending `capture` transaction and its command, and the hold marked as
   * spoken for (no second capture, no void, no expiry). The worker posts it and releases the rest.
   */
  async capture(
    manager: EntityManager,
    tenantId: string,
    holdId: string,
    requested: bigint | null,
    correlationId: string | null,
  ): Promise<TransactionRecord> {
    const { hold, now } = await this.lock(manager, tenantId, holdId);
    const amount = captureAmount(hold, requested, now);
    const account = await this.accounts.find(manager, tenantId, hold.accountId);
    if (account?.status === 'frozen') throw new AccountFrozenError(hold.accountId);
    const id = newId('txn');
    const command: TransactionRequested = { transactionId: id, tenantId };
    const t = await this.transactions.insert(
      manager,
      {
        id,
        tenantId,
        type: 'capture',
        status: 'pending',
        amount,
        currency: hold.currency,
        sourceAccountId: hold.accountId,
        destinationAccountId: null,
        parentTransactionId: null,
        holdId: hold.id,
        description: null,
        metadata: { holdId: hold.id },
        correlationId,
      },
      [
        {
          exchange: Exchanges.commands,
          routingKey: MessageTypes.transactionRequested,
          payload: command,
          correlationId,
        },
      ],
    );
    await this.holds.markCapturing(manager, hold.id, t.id);
    return t;
  }

  /** Releases the hold at once. */
  async void(manager: EntityManager, tenantId: string, holdId: string): Promise<HoldRecord> {
    const { hold, now } = await this.lock(manager, tenantId, holdId);
    assertVoidable(hold, now);
    const account = await this.accounts.lockOne(manager, tenantId, hold.accountId);
    if (!account) throw new Error(`account ${hold.accountId} of hold ${hold.id} is missing`);
    account.held = releaseHold(account, hold);
    const [voided] = await this.holds.finishMany(manager, [
      { id: hold.id, status: 'voided', capturedAmount: null },
    ]);
    const announced = announce(voided, MessageTypes.holdVoided, account);
    await this.accounts.saveLocked(manager, new Map([[account.id, account]]), [account.id]);
    await this.outbox.enqueue(manager, [announced]);
    return voided;
  }

  private async lock(manager: EntityManager, tenantId: string, holdId: string) {
    const found = await this.holds.lock(manager, tenantId, holdId);
    if (!found) throw new HoldNotFoundError(holdId);
    return found;
  }
}
