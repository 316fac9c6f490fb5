import { IsIn, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, ValidateBy } from 'class-validator';
import { MAX_EVENTS_PER_BATCH, MessageTypes, type CorrelatedEvent, type TallyEvent } from '#domain';
import { PermanentMessageError, USAGE_OUTCOME_TYPES, validPayload } from '#messaging';

/** A whole number from 1 (a bigint past 2^53, as the lossless JSON parser gives it, or a number). */
const IsPositiveWholeNumber = () =>
  ValidateBy({
    name: 'isPositiveWholeNumber',
    validator: {
      validate: (v: unknown) =>
        typeof v === 'bigint' ? v > 0n : typeof v === 'number' && Number.isSafeInteger(v) && v > 0,
      defaultMessage: () => '$property must be a whole number from 1',
    },
  });

/** What every event on `tally.events` has: its id, tenant, time and data. */
abstract class EventEnvelope {
  @IsString()
  @IsNotEmpty()
  id!: string;

  @IsString()
  @IsNotEmpty()
  tenantId!: string;

  @IsISO8601({ strict: true })
  createdAt!: string;

  @IsObject()
  data!: Record<string, unknown>;
}

/** An outcome event as the notification app takes it from the queue. */
export class TallyEventMessage extends EventEnvelope implements TallyEvent {
  @IsString()
  @IsNotEmpty()
  type!: string;

  @IsOptional()
  @IsPositiveWholeNumber()
  accountSeq?: bigint | number;
}

/** A `usage.outcomes` event as the notification app takes it: its outcomes are checked one by one. */
export class UsageOutcomesMessage extends EventEnvelope implements TallyEvent {
  @IsIn([MessageTypes.usageOutcomes])
  type!: string;
}

/**
 * The outcome events a `usage.outcomes` message carries, each a valid event of the message's tenant
 * and a usage outcome type, with its correlation id; else a PermanentMessageError (the whole
 * message is dead-lettered: it is one write of the worker, so none of it is delivered).
 */
export function usageOutcomesOf(message: UsageOutcomesMessage): CorrelatedEvent[] {
  const outcomes = message.data.outcomes;
  const refuse = (why: string) => new PermanentMessageError(`UsageOutcomes: ${why}`, 'malformed_event');
  if (!Array.isArray(outcomes) || outcomes.length === 0 || outcomes.length > MAX_EVENTS_PER_BATCH) {
    throw refuse(`data.outcomes must be an array of 1 to ${MAX_EVENTS_PER_BATCH} outcomes`);
  }
  return outcomes.map((item: unknown, i) => {
    const { event, correlationId } = (item ?? {}) as { event?: unknown; correlationId?: unknown };
    const valid = validPayload(TallyEventMessage, event, 'malformed_event');
    if (!USAGE_OUTCOME_TYPES.includes(valid.type)) throw refuse(`outcome ${i} is a ${valid.type} event`);
    if (valid.tenantId !== message.tenantId) throw refuse(`outcome ${i} is another tenant's`);
    if (correlationId !== null && correlationId !== undefined && typeof correlationId !== 'string') {
      throw refuse(`outcome ${i}: correlationId must be a string or null`);
    }
    return { event: valid, correlationId: correlationId ?? null };
  });
}
