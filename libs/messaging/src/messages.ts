import {
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
};

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
