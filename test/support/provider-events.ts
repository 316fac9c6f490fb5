import { providerSignature } from '#domain';
import { send } from './stack.js';

/** A payment provider's webhook body (`POST /v1/provider-events`), as the simulator sends it. */
export interface ProviderEventBody {
  id: string;
  type: string;
  data: { id: string; reference: string | null; status: string };
}

/**
 * Sends `event` to the gateway's `POST /v1/provider-events`, signed as the provider signs it with
 * `secret` at `at` (seconds; now unless told, e.g. a stale time for a replay).
 */
export function sendProviderEvent(
  gatewayUrl: string,
  secret: string,
  event: ProviderEventBody,
  at = Math.floor(Date.now() / 1000),
) {
  const body = JSON.stringify(event);
  return send(
    gatewayUrl,
    'POST',
    '/v1/provider-events',
    { 'content-type': 'application/json', 'provider-signature': providerSignature(secret, at, body) },
    body,
  );
}
