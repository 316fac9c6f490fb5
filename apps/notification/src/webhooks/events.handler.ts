import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { MessageTypes, WEBHOOK_EVENT_TYPES, eventAccount, stringifyJson, type TallyEvent } from '#domain';
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
    const accountId = eventAccount(event.data);
    const accountSeq = accountId === null ? null : accountSeqOf(event);
    await this.inbox.process(ctx, NOTIFICATION_CONSUMER, async (manager) => {
      // Recorded whether or not anyone subscribes: later events about the account wait for it.
      if (accountSeq !== null) {
        await this.webhooks.noteArrival(manager, accountId!, accountSeq, this.options.orderWaitMs);
      }
      const endpoints = await this.webhooks.subscribers(manager, event.tenantId, event.type);
      await this.webhooks.createDeliveries(
        manager,
        deliveriesOf(event, endpoints, ctx.message.properties.correlationId ?? null),
      );
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
    await this.inbox.process(ctx, NOTIFICATION_CONSUMER, async (manager) => {
      const arrivals = outcomes.flatMap(({ event }) => {
        const accountId = eventAccount(event.data);
        const seq = accountId === null ? null : accountSeqOf(event);
        return seq === null ? [] : [{ accountId: accountId!, seq }];
      });
      await this.webhooks.noteArrivals(manager, arrivals, this.options.orderWaitMs);
      const subscribers = new Map<string, WebhookEndpointRecord[]>();
      for (const type of new Set(outcomes.map((o) => o.event.type))) {
        subscribers.set(type, await this.webhooks.subscribers(manager, message.tenantId, type));
      }
      await this.webhooks.createDeliveries(
        manager,
        outcomes.flatMap(({ event, correlationId }) =>
          deliveriesOf(event, subscribers.get(event.type)!, correlationId),
        ),
      );
    });
    this.dispatcher.poke();
  }
}

/** The deliveries of one event: one per endpoint, each with the body receivers see. */
function deliveriesOf(
  event: TallyEvent<object>,
  endpoints: WebhookEndpointRecord[],
  correlationId: string | null,
) {
  if (endpoints.length === 0) return [];
  const accountId = eventAccount(event.data);
  const accountSeq = accountId === null ? null : accountSeqOf(event);
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
