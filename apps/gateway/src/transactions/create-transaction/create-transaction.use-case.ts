import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  TransactionNotFoundError,
  participantsRefusal,
  checkRefund,
  newId,
  refundSource,
  stringifyJson,
  transactionView,
} from '#domain';
import { Ledger } from '#ledger';
import { Commands } from '#messaging';
import { AccountRepository, TransactionRepository, type TransactionRecord } from '#persistence';
import type { StoredResponse } from '../../idempotency/idempotency.service.js';
import { AcceptBatcher } from './accept-batcher.js';
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
    @Inject(AcceptBatcher) private readonly batcher: AcceptBatcher,
    @Inject(Ledger) private readonly ledger: Ledger,
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
      sourceAccountId = refundSource(parent);
      destinationAccountId = parent.sourceAccountId;
    } else {
      amount = command.amount;
      currency = command.currency;
      if ('sourceAccountId' in command) sourceAccountId = command.sourceAccountId;
      if ('destinationAccountId' in command) destinationAccountId = command.destinationAccountId;
    }

    const ids = [sourceAccountId, destinationAccountId].filter((id): id is string => id !== null);
    const refusal = participantsRefusal(ids, await this.accounts.findMany(manager, tenantId, ids), currency);
    if (refusal) throw refusal;

    // The intent and its command are written by one statement.
    return this.ledger.request(manager, {
      id: newId('txn'),
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
    });
  }

  /**
   * Accepts a deposit, withdrawal, transfer or charge in one SQL statement, idempotency record
   * included (see IdempotencyService.executeInOneStatement and TransactionRepository.acceptMany, batched by AcceptBatcher):
   * the hot path, one round trip to the database.
   */
  async acceptInOneStatement(
    record: { tenantId: string; key: string; fingerprint: string },
    command: Exclude<CreateTransactionCommand, { type: 'refund' }>,
    correlationId: string | null,
  ): Promise<{ locked: boolean; written: StoredResponse | null; refusal: Error | null }> {
    const { tenantId } = record;
    const sourceAccountId = 'sourceAccountId' in command ? command.sourceAccountId : null;
    const destinationAccountId = 'destinationAccountId' in command ? command.destinationAccountId : null;
    const accountIds = [sourceAccountId, destinationAccountId].filter((id): id is string => id !== null);
    const id = newId('txn');
    const t: TransactionRecord = {
      id,
      tenantId,
      type: command.type,
      status: 'pending',
      amount: command.amount,
      currency: command.currency,
      sourceAccountId,
      destinationAccountId,
      parentTransactionId: null,
      holdId: null,
      refundedAmount: 0n,
      description: command.description ?? null,
      metadata: command.metadata ?? {},
      failureCode: null,
      failureMessage: null,
      correlationId,
      createdAt: new Date(),
      completedAt: null,
    };
    const response: StoredResponse = {
      status: 202,
      body: transactionView(t),
      headers: { Location: `/v1/transactions/${id}` },
    };
    const result = await this.batcher.accept({
      transaction: t,
      command: Commands.transactionRequested({ transactionId: id, tenantId }, correlationId),
      guard: {
        key: record.key,
        fingerprint: record.fingerprint,
        response: { status: response.status, body: stringifyJson(response.body), headers: response.headers },
      },
    });
    if (result.inserted) return { locked: true, written: response, refusal: null };
    const found = new Map(result.accounts.map((a) => [a.id, a]));
    return {
      locked: result.locked,
      written: null,
      refusal: participantsRefusal(accountIds, found, t.currency),
    };
  }
}
