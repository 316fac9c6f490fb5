import type { FastifyReply } from 'fastify';
import type { Outcome } from '../idempotency/idempotency.service.js';

/** Sends a write's answer exactly as stored, marking replays. */
export function sendOutcome(
  reply: FastifyReply,
  outcome: Outcome,
  extraHeaders: Record<string, string> = {},
): void {
  const headers: Record<string, string> = {
    ...outcome.headers,
    ...extraHeaders,
    'Content-Type': outcome.contentType,
  };
  if (outcome.replayed) headers['Idempotent-Replayed'] = 'true';
  void reply.code(outcome.status).headers(headers).send(outcome.text);
}
