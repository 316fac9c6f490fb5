import {
  type CorrelatedEvent,
  MessageTypes,
  type OrderRequested,
  tallyEvent,
  type TallyEvent,
  type TransactionRequested,
  type UsageRecorded,
  type holdView,
  type transactionView,
} from '#domain';
import type { OutboxMessageInput } from '#persistence';
import { Exchanges } from './topology.js';

/**
 * Every message the apps write to the outbox is made here: each command and event has one typed
 * factory, so a routing key, an exchange and a payload shape are decided in one place.
 */

function command(type: string, payload: object, correlationId: string | null): OutboxMessageInput {
  return { exchange: Exchanges.commands, routingKey: type, payload, correlationId };
}

/** Commands, for `tally.commands` (routing key = message type). */
export const Commands = {
  /** Apply a pending transaction (its row holds the details). */
  transactionRequested: (payload: TransactionRequested, correlationId: string | null = null) =>
    command(MessageTypes.transactionRequested, payload, correlationId),
  /** Process usage events accepted together. */
  usageRecorded: (payload: UsageRecorded, correlationId: string | null = null) =>
    command(MessageTypes.usageRecorded, payload, correlationId),
  /** Charge again events left unbilled. */
  usageRebillRequested: (payload: UsageRecorded, correlationId: string | null = null) =>
    command(MessageTypes.usageRebillRequested, payload, correlationId),
  /** Complete a reserved order: capture its hold, sell its reserved stock. */
  orderRequested: (payload: OrderRequested, correlationId: string | null = null) =>
    command(MessageTypes.orderRequested, payload, correlationId),
};

export type TransactionEventData = ReturnType<typeof transactionView>;
export type HoldEventData = ReturnType<typeof holdView>;

/** `account.balance_low`: available went below the account's threshold. */
export interface BalanceLowData {
  accountId: string;
  currency: string;
  available: bigint;
  threshold: bigint;
}

/** What a usage charge was about (the event, the wallet, the price). */
export interface UsageChargeData {
  eventId: string;
  type: string;
  accountId: string;
  meterId: string | null;
  quantity: bigint;
  amount: bigint;
  currency: string;
}

/** An order as the API and its events show it (docs/api.md, "Order"). */
export interface OrderEventData {
  id: string;
  accountId: string;
  status: string;
  total: bigint;
  currency: string;
  [field: string]: unknown;
}

/** Outcome events, for `tally.events`; each gets its own id (the webhook id downstream). */
export const Events = {
  transactionSucceeded: (tenantId: string, data: TransactionEventData) =>
    tallyEvent(MessageTypes.transactionSucceeded, tenantId, data),
  transactionFailed: (tenantId: string, data: TransactionEventData) =>
    tallyEvent(MessageTypes.transactionFailed, tenantId, data),
  accountBalanceLow: (tenantId: string, data: BalanceLowData) =>
    tallyEvent(MessageTypes.accountBalanceLow, tenantId, data),
  holdCreated: (tenantId: string, data: HoldEventData) =>
    tallyEvent(MessageTypes.holdCreated, tenantId, data),
  holdCaptured: (tenantId: string, data: HoldEventData) =>
    tallyEvent(MessageTypes.holdCaptured, tenantId, data),
  holdVoided: (tenantId: string, data: HoldEventData) => tallyEvent(MessageTypes.holdVoided, tenantId, data),
  holdExpired: (tenantId: string, data: HoldEventData) =>
    tallyEvent(MessageTypes.holdExpired, tenantId, data),
  usageCharged: (tenantId: string, data: UsageChargeData & { transactionId: string }) =>
    tallyEvent(MessageTypes.usageCharged, tenantId, data),
  usageChargeFailed: (
    tenantId: string,
    data: UsageChargeData & { failure: { code: string; message: string } },
  ) => tallyEvent(MessageTypes.usageChargeFailed, tenantId, data),
  orderCompleted: (tenantId: string, data: OrderEventData) =>
    tallyEvent(MessageTypes.orderCompleted, tenantId, data),
  orderFailed: (tenantId: string, data: OrderEventData) =>
    tallyEvent(MessageTypes.orderFailed, tenantId, data),
  orderCancelled: (tenantId: string, data: OrderEventData) =>
    tallyEvent(MessageTypes.orderCancelled, tenantId, data),
  /** Internal: a usage batch's `usage.charged` / `usage.charge_failed` events, one message. */
  usageOutcomes: (tenantId: string, outcomes: CorrelatedEvent[]) =>
    tallyEvent(MessageTypes.usageOutcomes, tenantId, { outcomes }),
};

/** The outcome events of a usage batch: they travel together (Events.usageOutcomes). */
export const USAGE_OUTCOME_TYPES: readonly string[] = [
  MessageTypes.usageCharged,
  MessageTypes.usageChargeFailed,
];

/**
 * Outbox rows for a set of outcome events: the usage outcomes among them as one `usage.outcomes`
 * message (its correlation id the first one's), every other event as its own message, in order.
 */
export function eventMessages(events: CorrelatedEvent[]): OutboxMessageInput[] {
  const usage = events.filter((e) => USAGE_OUTCOME_TYPES.includes(e.event.type));
  const others = events.filter((e) => !USAGE_OUTCOME_TYPES.includes(e.event.type));
  const messages = others.map((e) => eventMessage(e.event, e.correlationId));
  if (usage.length === 0) return messages;
  const tenants = new Set(usage.map((e) => e.event.tenantId));
  if (tenants.size !== 1) throw new Error('usage outcomes of more than one tenant in one message');
  const packed = Events.usageOutcomes(usage[0]!.event.tenantId, usage);
  return [eventMessage(packed, usage[0]!.correlationId), ...messages];
}

/** An outcome event as an outbox row for `tally.events` (routing key = type, message id = event id). */
export function eventMessage(event: TallyEvent<object>, correlationId: string | null): OutboxMessageInput {
  return {
    exchange: Exchanges.events,
    routingKey: event.type,
    payload: event,
    messageId: event.id,
    correlationId,
  };
}
