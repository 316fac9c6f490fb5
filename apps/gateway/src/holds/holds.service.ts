import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AccountFrozenError, HoldNotFoundError, assertVoidable, captureAmount, newId } from '#domain';
import { Ledger } from '#ledger';
import { AccountRepository, HoldRepository, type HoldRecord, type TransactionRecord } from '#persistence';

/**
 * Holds, decided at once in the caller's database transaction; the ledger moves the money. Lock
 * order: the hold, then its account (as the worker and the expiry sweep do), so no two of them
 * deadlock.
 */
@Injectable()
export class HoldsService {
  constructor(
    @Inject(AccountRepository) private readonly accounts: AccountRepository,
    @Inject(HoldRepository) private readonly holds: HoldRepository,
    @Inject(Ledger) private readonly ledger: Ledger,
  ) {}

  /** Locks the account, checks available funds, moves the amount to held, records the hold: 201 or 402. */
  create(
    manager: EntityManager,
    tenantId: string,
    input: { accountId: string; amount: bigint; currency: string; expiresInSeconds: number },
    correlationId: string | null,
  ): Promise<HoldRecord> {
    return this.ledger.apply(manager, { kind: 'reserve', hold: { tenantId, ...input, correlationId } });
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
    const t = await this.ledger.request(manager, {
      id: newId('txn'),
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
    });
    await this.holds.markCapturing(manager, hold.id, t.id);
    return t;
  }

  /** Releases the hold at once. */
  async void(manager: EntityManager, tenantId: string, holdId: string): Promise<HoldRecord> {
    const { hold, now } = await this.lock(manager, tenantId, holdId);
    assertVoidable(hold, now);
    const [voided] = await this.ledger.apply(manager, { kind: 'release', holds: [hold], status: 'voided' });
    return voided!;
  }

  private async lock(manager: EntityManager, tenantId: string, holdId: string) {
    const found = await this.holds.lock(manager, tenantId, holdId);
    if (!found) throw new HoldNotFoundError(holdId);
    return found;
  }
}
