import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EntityManager } from 'typeorm';
import {
  MessageTypes,
  WEBHOOK_EVENT_TYPES,
  eventAccount,
  stringifyJson,
  type CorrelatedEvent,
  type TallyEvent,
} from '#domain';
import { AmqpContext, InboxProcessor, ValidPayload } from '#messaging';
import { WebhookRepository, type WebhookEndpointRecord } from '#persistence';
import { Mailer, templates } from '../email/mailer.js';
import { DeliveryDispatcher, type DispatchOptions } from './delivery-dispatcher.js';
import { TallyEventMessage, UsageOutcomesMessage, usageOutcomesOf } from './tally-event.message.js';

export const NOTIFICATION_CONSUMER = 'notification';

/** The event's number among its account's events, when it carries a valid one. */
function accountSeqOf(event: TallyEvent<object>): bigint | null {
  const seq = event.accountSeq;
  if (typeof seq === 'bigint') return seq > 0n ? seq : null;
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0 ? BigInt(seq) : null;
}

/**
 * Outcome events → one delivery per subscribed endpoint (unique per event and endpoint, with the
 * inbox row, in one transaction: a redelivered event adds nothing), the low-balance email and the
 * receipt of a completed order to its customer.
 * Sending happens in the dispatcher, after the commit.
 */
@Controller()
export class EventsHandler {
  constructor(
    @Inject(InboxProcessor) private readonly inbox: InboxProcessor,
    @Inject(WebhookRepository) private readonly webhooks: WebhookRepository,
    @Inject(Mailer) private readonly mailer: Mailer,
    @Inject(DeliveryDispatcher) private readonly dispatcher: DeliveryDispatcher,
    @Inject('DISPATCH_OPTIONS') private readonly options: DispatchOptions,
  ) {}

  @EventPattern<string[]>([...WEBHOOK_EVENT_TYPES])
  async onEvent(
    @Payload(new ValidPayload(TallyEventMessage, 'malformed_event')) event: TallyEvent,
    @Ctx() ctx: AmqpContext,
  ): Promise<void> {
    let emails = false;
    await this.inbox.process(ctx, NOTIFICATION_CONSUMER, async (manager) => {
      await this.deliver(manager, event.tenantId, [
        { event, correlationId: ctx.message.properties.correlationId ?? null },
      ]);
      if (event.type === MessageTypes.accountBalanceLow) {
        const d = event.data as {
          accountId: string;
          currency: string;
          available: unknown;
          threshold: unknown;
        };
        emails = await this.mailer.enqueue(
          manager,
          event.tenantId,
          `balance_low:${event.id}`,
          'account.balance_low',
          templates.balanceLow({
            accountId: d.accountId,
            currency: d.currency,
            available: String(d.available),
            threshold: String(d.threshold),
          }),
        );
      }
      if (event.type === MessageTypes.orderCompleted) {
        const order = event.data as { id: string; total: unknown; currency: string; customerEmail?: unknown };
        if (typeof order.customerEmail === 'string' && order.customerEmail !== '') {
          emails =
            (await this.mailer.enqueueReceipt(
              manager,
              event.tenantId,
              { id: order.id, total: BigInt(String(order.total)), currency: order.currency },
              order.customerEmail,
            )) || emails;
        }
      }
    });
    this.dispatcher.poke();
    if (emails) void this.mailer.sendPending();
  }

  /**
   * A usage batch's `usage.charged` / `usage.charge_failed` events, in one message: in one
   * transaction with its inbox row, every event's arrival is noted and its deliveries made as if each
   * had come on its own: one per event and endpoint (unique on that pair), with its number in its
   * account. An `account.balance_low` numbered between a wallet's charges comes in its own message
   * after this one; the account's cursor holds the later charges back for it (up to the order wait).
   */
  @EventPattern<string>(MessageTypes.usageOutcomes)
  async onUsageOutcomes(
    @Payload(new ValidPayload(UsageOutcomesMessage, 'malformed_event')) message: UsageOutcomesMessage,
    @Ctx() ctx: AmqpContext,
  ): Promise<void> {
    const outcomes = usageOutcomesOf(message);
    await this.inbox.process(ctx, NOTIFICATION_CONSUMER, (manager) =>
      this.deliver(manager, message.tenantId, outcomes),
    );
    this.dispatcher.poke();
  }

  /**
   * Notes each event's arrival in its account, whether or not anyone subscribes (later events about
   * the account wait for it), and makes one delivery per event and subscribed endpoint, in the
   * caller's transaction: two statements for the arrivals, one per event type, one for the rows.
   */
  private async deliver(manager: EntityManager, tenantId: string, events: CorrelatedEvent[]): Promise<void> {
    const about = events.map(({ event, correlationId }) => {
      const accountId = eventAccount(event.data);
      return { event, correlationId, accountId, accountSeq: accountId === null ? null : accountSeqOf(event) };
    });
    await this.webhooks.noteArrivals(
      manager,
      about.flatMap((a) => (a.accountSeq === null ? [] : [{ accountId: a.accountId!, seq: a.accountSeq }])),
      this.options.orderWaitMs,
    );
    const subscribers = new Map<string, WebhookEndpointRecord[]>();
    for (const type of new Set(events.map((e) => e.event.type))) {
      subscribers.set(type, await this.webhooks.subscribers(manager, tenantId, type));
    }
    await this.webhooks.createDeliveries(
      manager,
      about.flatMap((a) => deliveriesOf(a, subscribers.get(a.event.type)!)),
    );
  }
}

/** The deliveries of one event: one per endpoint, each with the body receivers see. */
function deliveriesOf(
  {
    event,
    correlationId,
    accountId,
    accountSeq,
  }: CorrelatedEvent & { accountId: string | null; accountSeq: bigint | null },
  endpoints: WebhookEndpointRecord[],
) {
  if (endpoints.length === 0) return [];
  // The body receivers see: { id, type, createdAt, data } (the tenant is implied by the endpoint).
  const payload = stringifyJson({
    id: event.id,
    type: event.type,
    createdAt: event.createdAt,
    data: event.data,
  });
  return endpoints.map((e) => ({
    tenantId: event.tenantId,
    endpointId: e.id,
    eventId: event.id,
    eventType: event.type,
    accountId,
    accountSeq,
    payload,
    correlationId,
  }));
}
