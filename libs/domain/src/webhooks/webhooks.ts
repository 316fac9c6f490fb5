import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { DomainError } from '../errors.js';

/** Event types a webhook endpoint can subscribe to (docs/api.md, Webhooks). */
export const WEBHOOK_EVENT_TYPES = [
  'transaction.succeeded',
  'transaction.failed',
  'hold.created',
  'hold.captured',
  'hold.voided',
  'hold.expired',
  'account.balance_low',
  'usage.charged',
  'usage.charge_failed',
] as const;

/** How long the previous secret keeps signing after a rotation. */
export const SECRET_ROTATION_OVERLAP_MS = 24 * 3600_000;

export class WebhookEndpointNotFoundError extends DomainError {
  readonly code = 'webhook_endpoint_not_found';
  constructor(id: string) {
    super(`Webhook endpoint ${id} does not exist.`);
  }
}

export class WebhookDeliveryNotFoundError extends DomainError {
  readonly code = 'webhook_delivery_not_found';
  constructor(id: string) {
    super(`Delivery ${id} does not exist for this endpoint.`);
  }
}

export class WebhookUrlRefusedError extends DomainError {
  readonly code = 'webhook_url_refused';
  constructor(reason: string) {
    super(reason);
  }
}

/** A new signing secret: `whsec_` + base64 of 24 random bytes (Standard Webhooks). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for one secret. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', keyOf(secret))
    .update(`${id}.${timestampSeconds}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` header: one signature per live secret, space-separated. */
export function signatureHeader(
  secrets: string[],
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  return secrets.map((s) => signWebhook(s, id, timestampSeconds, body)).join(' ');
}

/** What a receiver does (the docs' example): any listed v1 signature matching is enough. */
export function verifyWebhook(
  secret: string,
  id: string,
  timestamp: string,
  body: string,
  header: string,
): boolean {
  const expected = Buffer.from(signWebhook(secret, id, Number(timestamp), body));
  return header.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1): the schedule's entry, ±20%
 * jitter, and never less than what the receiver asked for with Retry-After. Null when the
 * schedule is exhausted.
 */
export function nextRetryDelayMs(
  attempt: number,
  scheduleMs: number[],
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number | null {
  const base = scheduleMs[attempt - 1];
  if (base === undefined) return null;
  const jittered = Math.round(base * (0.8 + 0.4 * random()));
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** Seconds or an HTTP date, as Retry-After allows; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Whether a webhook may be sent to `address`: public unicast addresses are; private, loopback,
 * link-local, unique-local, multicast, reserved and unspecified ones only when `allowed` lists
 * the host (exact, case-insensitive) or a CIDR containing the address.
 */
export function isAddressAllowed(host: string, address: string, allowed: string[]): boolean {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(address);
  } catch {
    return false;
  }
  for (const entry of allowed) {
    if (entry.toLowerCase() === host.toLowerCase()) return true;
    if (entry.includes('/')) {
      try {
        const [range, bits] = ipaddr.parseCIDR(entry);
        if (range.kind() === ip.kind() && ip.match([range, bits] as never)) return true;
      } catch {
        /* not a CIDR */
      }
    } else if (ipaddr.isValid(entry) && ipaddr.process(entry).toString() === ip.toString()) {
      return true;
    }
  }
  return ip.range() === 'unicast';
}

/**
 * Which of an account's events (numbered 1, 2, … where they were written) have reached the
 * notification app: all up to `contiguous`, and those `ahead` of a gap, which opened at `gapSince`.
 */
export interface ArrivalCursor {
  contiguous: bigint;
  ahead: bigint[];
  gapSince: Date | null;
}

/**
 * The cursor once event `seq` has arrived. A gap older than `waitMs` is given up on (its event was
 * lost or dead-lettered, or is very late): the events after it go on, so one missing event cannot
 * hold an account's webhooks back for ever.
 */
export function noteArrival(cursor: ArrivalCursor, seq: bigint, now: Date, waitMs: number): ArrivalCursor {
  const ahead = new Set(cursor.ahead);
  if (seq > cursor.contiguous) ahead.add(seq);
  let contiguous = cursor.contiguous;
  if (cursor.gapSince && now.getTime() - cursor.gapSince.getTime() >= waitMs && ahead.size > 0) {
    contiguous = [...ahead].reduce((a, b) => (b < a ? b : a)) - 1n;
  }
  while (ahead.delete(contiguous + 1n)) contiguous++;
  const gapSince =
    ahead.size === 0 ? null : contiguous !== cursor.contiguous || !cursor.gapSince ? now : cursor.gapSince;
  return { contiguous, ahead: [...ahead].sort((a, b) => (a < b ? -1 : 1)), gapSince };
}
