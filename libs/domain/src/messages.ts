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
  /**
   * Internal event: the `usage.charged` and `usage.charge_failed` events of one usage batch, in
   * one message (see UsageOutcomesData). Never a webhook type: the notification app splits it.
   */
  usageOutcomes: 'usage.outcomes',
  /** Command: complete a reserved order (capture its hold, sell its stock). */
  orderRequested: 'order.requested',
  orderCompleted: 'order.completed',
  orderFailed: 'order.failed',
  orderCancelled: 'order.cancelled',
} as const;

/** Command: complete a reserved order (its row holds the details). */
export interface OrderRequested {
  orderId: string;
  tenantId: string;
}

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
  /**
   * Its number among the events about its account (see eventAccount), given where it was written:
   * webhooks about one account are delivered in this order. Absent on events about no account.
   */
  accountSeq?: bigint | number;
}

/** An event with the correlation id of the request it came of (its message's, when it has its own). */
export interface CorrelatedEvent {
  event: TallyEvent<object>;
  correlationId: string | null;
}

/**
 * The data of a `usage.outcomes` event: a batch's charge outcomes, in the order they were numbered
 * under the wallets' locks. One message per batch instead of one per event: per event, the outbox
 * row, its publish and confirm, and the broker's two queue writes cost more than the charge itself.
 */
export interface UsageOutcomesData {
  outcomes: CorrelatedEvent[];
}

/**
 * The account an event is about, if any (a transfer's is its source). Its webhooks reach each
 * endpoint in that account's order.
 */
export function eventAccount(data: object): string | null {
  const fields = data as Record<string, unknown>;
  for (const key of ['accountId', 'sourceAccountId', 'destinationAccountId']) {
    if (typeof fields[key] === 'string') return fields[key];
  }
  return null;
}

/**
 * Numbers events, in the order given, among the events about their account: each takes the
 * account's counter plus one. The caller holds those accounts locked and writes their counters back
 * in the same transaction, so the numbers are gap-free per account. An event about no account, or
 * about one the caller did not lock (not in `accounts`), stays unnumbered (unordered). Answers the
 * accounts whose counter moved.
 */
export function sequenceEvents(
  events: TallyEvent<object>[],
  accounts: Map<string, { eventSeq: bigint }>,
): Set<string> {
  const moved = new Set<string>();
  for (const event of events) {
    const id = eventAccount(event.data);
    const account = id === null ? undefined : accounts.get(id);
    if (!account) continue;
    account.eventSeq += 1n;
    event.accountSeq = account.eventSeq;
    moved.add(id!);
  }
  return moved;
}

/** A new event of `type` about `data`, with its own id (the webhook id downstream). */
export function tallyEvent<T extends object>(type: string, tenantId: string, data: T): TallyEvent<T> {
  return { id: newId('evt'), type, tenantId, createdAt: new Date().toISOString(), data };
}
