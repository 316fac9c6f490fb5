import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { MessageTypes, WEBHOOK_EVENT_TYPES, stringifyJson, type TallyEvent } from '#domain';
import { AmqpContext, InboxProcessor, PermanentMessageError } from '#messaging';
import { WebhookRepository } from '#persistence';
import { Mailer, templates } from '../email/mailer.js';
import { DeliveryDispatcher } from './delivery-dispatcher.js';

export const NOTIFICATION_CONSUMER = 'notification';

/** The account an event is about: deliveries about one account reach an endpoint in order. */
function accountOf(data: Record<string, unknown>): string | null {
  for (const key of ['accountId', 'sourceAccountId', 'destinationAccountId']) {
    if (typeof data[key] === 'string') return data[key] as string;
  }
  return null;
}

/**
 * Outcome events → one delivery per subscribed endpoint (unique per event and endpoint, with the
 * inbox row, in one transaction: a redelivered event adds nothing), and the low-balance email.
 * Sending happens in the dispatcher, after the commit.
 */
@Controller()
export class EventsHandler {
  constructor(
    @Inject(InboxProcessor) private readonly inbox: InboxProcessor,
    @Inject(WebhookRepository) private readonly webhooks: WebhookRepository,
    @Inject(Mailer) private readonly mailer: Mailer,
    @Inject(DeliveryDispatcher) private readonly dispatcher: DeliveryDispatcher,
  ) {}

  @EventPattern<string[]>([...WEBHOOK_EVENT_TYPES])
  async onEvent(@Payload() event: TallyEvent, @Ctx() ctx: AmqpContext): Promise<void> {
    if (
      typeof event?.id !== 'string' ||
      typeof event.tenantId !== 'string' ||
      typeof event.data !== 'object'
    ) {
      throw new PermanentMessageError('event without id, tenantId or data', 'malformed_event');
    }
    let emails = false;
    await this.inbox.process(ctx, NOTIFICATION_CONSUMER, async (manager) => {
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
          accountId: accountOf(event.data),
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
    });
    this.dispatcher.poke();
    if (emails) void this.mailer.sendPending();
  }
}
