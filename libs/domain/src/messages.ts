/** Message contracts between the apps. Bump the schema version when a payload changes shape. */
import { newId } from './ids.js';

export const MessageTypes = {
  transactionRequested: 'transaction.requested',
  transactionSucceeded: 'transaction.succeeded',
  transactionFailed: 'transaction.failed',
  accountBalanceLow: 'account.balance_low',
  holdCreated: 'hold.created',
  holdCaptured: 'hold.captured',
  holdVoided: 'hold.voided',
  holdExpired: 'hold.expired',
  usageRecorded: 'usage.recorded',
  /** Command: charge again events left unbilled (an operator's re-bill); payload as UsageRecorded. */
  usageRebillRequested: 'usage.rebill_requested',
  usageCharged: 'usage.charged',
  usageChargeFailed: 'usage.charge_failed',
} as const;

/** Command: apply a pending transaction (its intent row holds the details). */
export interface TransactionRequested {
  transactionId: string;
  tenantId: string;
}

/** Command: process usage events that were accepted together (their rows hold the details). */
export interface UsageRecorded {
  tenantId: string;
  eventIds: string[];
}

/** Event body, as webhooks will see it: `{ id, type, createdAt, data }`. */
export interface TallyEvent<T = Record<string, unknown>> {
  id: string;
  type: string;
  tenantId: string;
  createdAt: string;
  data: T;
}

/** A new event of `type` about `data`, with its own id (the webhook id downstream). */
export function tallyEvent<T extends object>(type: string, tenantId: string, data: T): TallyEvent<T> {
  return { id: newId('evt'), type, tenantId, createdAt: new Date().toISOString(), data };
}
