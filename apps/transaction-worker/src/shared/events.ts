import type { TallyEvent } from '#domain';
import { Exchanges } from '#messaging';
import type { OutboxMessageInput } from '#persistence';

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
