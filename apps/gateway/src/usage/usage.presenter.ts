import { parseJson } from '#domain';
import type { MeterRecord, UsageAggregate, UsageEventDetail, UsageEventStats } from '#persistence';

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

/** Stats buckets as the repository counted them, and their totals (failure codes summed across buckets). */
export function presentEventStats(from: Date, to: Date, groupBy: string, rows: UsageEventStats[]) {
  const reasons = new Map<string, number>();
  const totals = { received: 0, pending: 0, processed: 0, failed: 0 };
  for (const r of rows) {
    totals.received += r.received;
    totals.pending += r.pending;
    totals.processed += r.processed;
    totals.failed += r.failed;
    for (const { code, count } of r.failureReasons) reasons.set(code, (reasons.get(code) ?? 0) + count);
  }
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    groupBy,
    totals: {
      ...totals,
      failureReasons: [...reasons]
        .map(([code, count]) => ({ code, count }))
        .sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1)),
    },
    data: rows.map((r) => ({
      key: r.key,
      received: r.received,
      pending: r.pending,
      processed: r.processed,
      failed: r.failed,
      failureReasons: r.failureReasons,
    })),
  };
}
