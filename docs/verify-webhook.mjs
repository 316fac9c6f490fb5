// Verifying a Tally webhook without any dependency (Node 18+). Tally signs per Standard Webhooks:
//   webhook-signature: "v1,<base64 HMAC-SHA256(key, `${webhook-id}.${webhook-timestamp}.${body}`)>"
// where key is the base64-decoded endpoint secret without its "whsec_" prefix. During a secret
// rotation the header carries one signature per live secret, separated by spaces.
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';

const TOLERANCE_SECONDS = 5 * 60; // refuse replays of old messages

/**
 * @param {string} secret   the endpoint's secret, "whsec_…"
 * @param {Record<string, string>} headers  the request's headers (lower-case names)
 * @param {string} body     the raw request body, exactly as received
 * @param {number} [nowSeconds]
 * @returns {object} the parsed event; throws if the signature or timestamp is not right
 */
export function verifyTallyWebhook(secret, headers, body, nowSeconds = Math.floor(Date.now() / 1000)) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) throw new Error('missing webhook headers');
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS)
    throw new Error('timestamp too old or too new');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = Buffer.from(
    createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64'),
  );
  const ok = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    const given = Buffer.from(signature ?? '');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!ok) throw new Error('no valid signature');
  return JSON.parse(body); // { id, type, createdAt, data } — the id is also webhook-id: dedupe on it
}
