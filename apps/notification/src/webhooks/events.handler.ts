import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { MessageTypes, WEBHOOK_EVENT_TYPES, eventAccount, stringifyJson, type TallyEvent } from '#domain';
import { AmqpContext, InboxProcessor, ValidPayload } from '#messaging';
import { WebhookRepository } from '#persistence';
import { Mailer, templates } from '../email/mailer.js';
import { DeliveryDispatcher, type DispatchOptions } from './delivery-dispatcher.js';
import { TallyEventMessage } from './tally-event.message.js';

export const NOTIFICATION_CONSUMER = 'notification';

/** The event's number among its account's events, when it carries a valid one. */
function accountSeqOf(event: TallyEvent): bigint | null {
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
      // The body receivers see: { id, type, createdAt, data } (the tenant is implied by the endpoint).
      const payload = stringifyJson({
        id: event.id,
        type: event.type,
        createdAt: event.createdAt,
        data: event.data,
      });
      await this.webhooks.createDeliveries(
        manager,
        endpoints.map((e) => ({
          tenantId: event.tenantId,
          endpointId: e.id,
          eventId: event.id,
          eventType: event.type,
          accountId,
          accountSeq,
          payload,
          correlationId: ctx.message.properties.correlationId ?? null,
        })),
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
}
