import { DomainError } from '../errors.js';
import { MAX_AMOUNT } from '../money.js';

export const METER_AGGREGATIONS = ['count', 'sum'] as const;
export type MeterAggregation = (typeof METER_AGGREGATIONS)[number];

/** Most events in one `POST /v1/events`. */
export const MAX_EVENTS_PER_BATCH = 500;

export interface Meter {
  id: string;
  eventType: string;
  aggregation: MeterAggregation;
  /** The summed property (aggregation `sum`); null for `count`. */
  property: string | null;
  unitPrice: bigint;
  currency: string;
}

export interface UsageEvent {
  id: string;
  type: string;
  accountId: string | null;
  /** As parsed losslessly: integers are number or bigint, fractions JsonFloat. */
  properties: Record<string, unknown>;
}

export type UsageCategory = 'high_value' | 'standard';

/** Why an event cannot be processed; it goes to the failed-events store, never retried. */
export interface UsageRejection {
  ok: false;
  code: string;
  message: string;
}

export interface UsageAssessment {
  ok: true;
  category: UsageCategory;
  /** Present when a meter prices the event. */
  priced: { meterId: string; quantity: bigint; amount: bigint; currency: string } | null;
}

export class MeterExistsError extends DomainError {
  readonly code = 'meter_exists';
  constructor(eventType: string) {
    super(`A meter for event type "${eventType}" already exists.`);
  }
}

export class UsageEventNotFoundError extends DomainError {
  readonly code = 'event_not_found';
  constructor(id: string) {
    super(`Usage event ${id} does not exist.`);
  }
}

type IntegerRead = { kind: 'missing' } | { kind: 'invalid' } | { kind: 'integer'; value: bigint };

/**
 * An integer property (not a string, not a fraction), exactly. A literal written as a float is
 * not one, whatever its value: 1.0 and 1e3 are refused as 1.5 is (parsed losslessly they are
 * JsonFloat, never a number).
 */
export function integerProperty(properties: Record<string, unknown>, key: string): IntegerRead {
  if (!Object.hasOwn(properties, key) || properties[key] === null) return { kind: 'missing' };
  const v = properties[key];
  if (typeof v === 'bigint') return { kind: 'integer', value: v };
  if (typeof v === 'number' && Number.isSafeInteger(v)) return { kind: 'integer', value: BigInt(v) };
  return { kind: 'invalid' };
}

const reject = (code: string, message: string): UsageRejection => ({ ok: false, code, message });

/**
 * Business rules per event type, then pricing. Pure: the caller loads meters and accounts.
 *  - a `purchase` needs a positive integer `amount` property;
 *  - a metered event needs an account to bill, and a `sum` meter a non-negative integer property;
 *  - the price is quantity × unit price and never above the largest amount.
 * Category: `high_value` when the event's value (its `amount` property, else its price) reaches
 * `highValueThreshold`.
 */
export function assessUsage(
  event: UsageEvent,
  meter: Meter | undefined,
  highValueThreshold: bigint,
): UsageRejection | UsageAssessment {
  const amountProperty = integerProperty(event.properties, 'amount');
  if (event.type === 'purchase') {
    if (amountProperty.kind !== 'integer' || amountProperty.value <= 0n) {
      return reject('invalid_purchase', 'A purchase needs a positive integer "amount" property.');
    }
  }

  let priced: UsageAssessment['priced'] = null;
  if (meter) {
    if (event.accountId === null) {
      return reject('account_required', `Events of type "${event.type}" are metered and need an accountId.`);
    }
    let quantity = 1n;
    if (meter.aggregation === 'sum') {
      const read = integerProperty(event.properties, meter.property!);
      if (read.kind !== 'integer' || read.value < 0n) {
        return reject(
          'invalid_quantity',
          `Property "${meter.property}" must be a non-negative integer (the meter sums it).`,
        );
      }
      quantity = read.value;
    }
    const amount = quantity * meter.unitPrice;
    if (amount > MAX_AMOUNT) {
      return reject('amount_too_large', `${quantity} × ${meter.unitPrice} exceeds the largest amount.`);
    }
    priced = { meterId: meter.id, quantity, amount, currency: meter.currency };
  }

  const value = amountProperty.kind === 'integer' ? amountProperty.value : (priced?.amount ?? 0n);
  return { ok: true, category: value >= highValueThreshold ? 'high_value' : 'standard', priced };
}
