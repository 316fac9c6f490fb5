import type { ProviderPayoutStatus } from '#domain';

/** A payout as the provider reports it. */
export interface ProviderPayout {
  id: string;
  /** What Tally sent as its reference: the withdrawal's transaction id. */
  reference: string | null;
  amount: string;
  currency: string;
  status: ProviderPayoutStatus;
  updatedAt?: string;
}

export interface PayoutRequest {
  /** The withdrawal's transaction id: the same on every attempt, so the provider pays once. */
  idempotencyKey: string;
  reference: string;
  amount: bigint;
  currency: string;
}

/** What a call came to: the provider has it, refused it for good, or could not be reached. */
export type SubmitResult =
  | { kind: 'accepted'; payout: ProviderPayout }
  | { kind: 'refused'; statusCode: number; reason: string }
  | { kind: 'unavailable'; reason: string };

/** Thrown by `find` and `report` when the provider cannot answer now (timeout, 5xx, connection). */
export class ProviderUnavailableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ProviderUnavailableError';
  }
}

/** A payment provider that pays withdrawals out. One HTTP implementation: HttpPayoutProvider. */
export interface PayoutProvider {
  /** Names the provider in metrics, logs and the breaker's health detail. */
  readonly name: string;
  submit(request: PayoutRequest): Promise<SubmitResult>;
  /** The payout by the provider's id; null when the provider does not know it. */
  find(providerPayoutId: string): Promise<ProviderPayout | null>;
  /** Every payout changed since `since` (the reconciliation report). */
  report(since: Date): Promise<ProviderPayout[]>;
}

export const PAYOUT_PROVIDER = Symbol('PAYOUT_PROVIDER');
