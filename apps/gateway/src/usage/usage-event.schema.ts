import { z } from 'zod';
import { JsonFloat } from '../http/json.js';
import { flatKey } from '../http/validation.js';

/** How far ahead of the gateway's clock an event's timestamp may be (clock skew). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** A client's event id: 1-255 visible ASCII characters. */
const EVENT_ID = /^[\x21-\x7e]{1,255}$/;

/** Whether `id` can be an event's id (a path parameter that cannot is no event at all). */
export const isEventId = (id: string) => EVENT_ID.test(id);

/** Flat properties: at most 50 keys; strings, exact integers (any size), fractions, booleans, null. */
const properties = z
  .record(
    flatKey(64),
    z.union([
      z.string().max(1000),
      z.number().int(),
      z.bigint(),
      z.instanceof(JsonFloat),
      z.boolean(),
      z.null(),
    ]),
  )
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 keys');

/** One usage event as a client sends it (API.md, Usage events). */
export const usageEvent = z
  .object({
    id: z.string().regex(EVENT_ID, 'must be 1-255 visible ASCII characters'),
    type: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'must be 1-100 letters, digits, _ . : -'),
    accountId: z.string().min(1).max(64).nullable().optional(),
    timestamp: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' })
      .refine((t) => Date.parse(t) <= Date.now() + MAX_CLOCK_SKEW_MS, 'must not be in the future')
      .optional(),
    properties: properties.optional(),
  })
  .strict();

export type UsageEventInput = z.infer<typeof usageEvent>;

/** The batch envelope; its events are checked one by one. */
export const usageBatch = z.object({ events: z.array(z.unknown()).min(1).max(500) }).strict();
