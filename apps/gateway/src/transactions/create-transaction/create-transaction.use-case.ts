import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AccountFrozenError,
  AccountNotFoundError,
  CurrencyMismatchError,
  MessageTypes,
  TransactionNotFoundError,
  checkRefund,
  newId,
  type TransactionRequested,
} from '#domain';
import { Exchanges } from '#messaging';
import { AccountRepository, TransactionRepository, type TransactionRecord } from '#persistence';
import type { CreateTransactionCommand } from './create-transaction.command.js';

/**
 * Accepts a transaction: checks what can be checked now (accounts exist in this tenant, currencies,
 * frozen accounts, refundable parent), then writes the pending intent and its command to the
 * outbox in the caller's transaction. Funds are the worker's to check, under row locks.
 */
@Injectable()
export class CreateTransaction {
  constructor(
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(TransactionRepository) private readonly transactions: TransactionRepository,
  ) {}

  async execute(
    manager: EntityManager,
    tenantId: string,
    command: CreateTransactionCommand,
    correlationId: string | null,
  ): Promise<TransactionRecord> {
    let sourceAccountId: string | null = null;
    let destinationAccountId: string | null = null;
    let parentTransactionId: string | null = null;
    let amount: bigint;
    let currency: string;

    if (command.type === 'refund') {
      const parent = await this.transactions.find(manager, tenantId, command.parentTransactionId);
      if (!parent) throw new TransactionNotFoundError(command.parentTransactionId);
      amount = checkRefund(parent, command.amount ?? null);
      currency = parent.currency;
      parentTransactionId = parent.id;
      // Money goes back the way it came.
      sourceAccountId = parent.type === 'transfer' ? parent.destinationAccountId : null;
      destinationAccountId = parent.sourceAccountId;
    } else {
      amount = command.amount;
      currency = command.currency;
      if ('sourceAccountId' in command) sourceAccountId = command.sourceAccountId;
      if ('destinationAccountId' in command) destinationAccountId = command.destinationAccountId;
    }

    const ids = [sourceAccountId, destinationAccountId].filter((id): id is string => id !== null);
    const found = await this.accounts.findMany(manager, tenantId, ids);
    for (const id of ids) {
      const account = found.get(id);
      if (!account) throw new AccountNotFoundError(id);
      if (account.currency !== currency) throw new CurrencyMismatchError(account.currency, currency, id);
      if (account.status === 'frozen') throw new AccountFrozenError(id);
    }

    const id = newId('txn');
    const requested: TransactionRequested = { transactionId: id, tenantId };
    // The intent and its command are written by one statement.
    return this.transactions.insert(
      manager,
      {
        id,
        tenantId,
        type: command.type,
        status: 'pending',
        amount,
        currency,
        sourceAccountId,
        destinationAccountId,
        parentTransactionId,
        holdId: null,
        description: command.description ?? null,
        metadata: command.metadata ?? {},
        correlationId,
      },
      [
        {
          exchange: Exchanges.commands,
          routingKey: MessageTypes.transactionRequested,
          payload: requested,
          correlationId,
        },
      ],
    );
  }
}
