import { parseJson } from '#domain';
import type { MeterRecord, UsageAggregate, UsageEventDetail } from '#persistence';

export function presentMeter(m: MeterRecord) {
  return {
    id: m.id,
    eventType: m.eventType,
    aggregation: m.aggregation,
    property: m.property,
    unitPrice: m.unitPrice,
    currency: m.currency,
    createdAt: m.createdAt.toISOString(),
  };
}

/** A usage event as received, and what processing made of it. */
export function presentUsageEvent(e: UsageEventDetail) {
  const p = e.processed;
  return {
    id: e.id,
    type: e.type,
    accountId: e.accountId,
    timestamp: e.occurredAt.toISOString(),
    properties: parseJson(e.propertiesJson),
    status: e.status,
    receivedAt: e.receivedAt.toISOString(),
    processedAt: (p?.processedAt ?? e.failed?.failedAt)?.toISOString() ?? null,
    category: p?.category ?? null,
    billing:
      p && p.billingStatus !== 'not_metered'
        ? {
            status: p.billingStatus,
            meterId: p.meterId,
            quantity: p.quantity,
            amount: p.amount,
            currency: p.currency,
            transactionId: p.transactionId,
            failure: p.unbilledCode ? { code: p.unbilledCode, message: p.unbilledReason ?? '' } : null,
          }
        : null,
    failure: e.failed ? { code: e.failed.code, message: e.failed.reason } : null,
  };
}

export function presentUsage(groupBy: 'day' | 'meter', a: UsageAggregate) {
  return {
    ...(groupBy === 'day' ? { day: a.key } : { meterId: a.key, eventType: a.eventType }),
    currency: a.currency,
    events: a.events,
    quantity: a.quantity,
    amount: a.amount,
    unbilledEvents: a.unbilledEvents,
  };
}
