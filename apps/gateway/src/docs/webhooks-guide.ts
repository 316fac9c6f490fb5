/**
 * The webhooks guide, for the document's description (Swagger UI renders it as Markdown): how
 * deliveries are signed, retried and ordered, and a receiver that verifies them.
 */

const TXN = 'txn_01JD3Z9T1M2N3P4Q5R6S7T8V9W';

/** The body of the example delivery: the example signature in the document signs exactly this. */
export const WEBHOOK_EVENT_EXAMPLE = {
  id: 'evt_01JD3ZF0A1B2C3D4E5F6G7H8J9',
  type: 'transaction.succeeded',
  createdAt: '2026-11-21T12:00:00.040Z',
  data: {
    id: TXN,
    type: 'transfer',
    status: 'succeeded',
    amount: 2500,
    currency: 'USD',
    sourceAccountId: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C',
    destinationAccountId: 'acc_01JD3Z8QAA6V3F5W7X9Y1A2B3D',
    parentTransactionId: null,
    description: 'Invoice 2024-117',
    metadata: { orderId: 'ord_981' },
    failure: null,
    createdAt: '2026-11-21T12:00:00.000Z',
    completedAt: '2026-11-21T12:00:00.040Z',
  },
};

export const WEBHOOKS_GUIDE = [
  '## Webhooks',
  '',
  'Register an endpoint (POST /v1/webhook-endpoints) and Tally POSTs each event of the types it subscribes to, as JSON, following ' +
    '[Standard Webhooks](https://www.standardwebhooks.com/):',
  '',
  '- Body: `{ "id": "evt_…", "type", "createdAt", "data": { … } }`. `data` is the transaction (`transaction.succeeded`, `transaction.failed`), ' +
    'the hold (`hold.created`, `hold.captured`, `hold.voided`, `hold.expired`), `{ accountId, currency, available, threshold }` (`account.balance_low`), ' +
    'or the usage event and its price with the `transactionId` (`usage.charged`) or the `failure` (`usage.charge_failed`).',
  '- `webhook-id`: the event id, the same on every retry of it: deduplicate on it.',
  '- `webhook-timestamp`: when this attempt was signed, in Unix seconds. Refuse messages too far from now (say 5 minutes) to stop replays.',
  '- `webhook-signature`: `v1,` + base64(HMAC-SHA256(key, `"{webhook-id}.{webhook-timestamp}.{body}"`)), where key is the endpoint secret ' +
    'base64-decoded without its `whsec_` prefix, and body is the raw request body, byte for byte. For 24 hours after a secret rotation the header ' +
    'carries two signatures separated by a space (new secret and previous one): accept the message if any `v1,` signature matches.',
  '',
  'A 2xx answer within 10 seconds is success. Anything else (another status, a timeout, a refused connection) is retried with exponential backoff ' +
    'and ±20% jitter, by default 5 s, 5 min, 30 min, 2 h, 5 h and 10 h after the attempt before; a `Retry-After` header (seconds or HTTP date) ' +
    'makes the wait at least that long. When the schedule is exhausted the delivery is `failed` and dead-lettered for operators; send it again with ' +
    'POST /v1/webhook-endpoints/{id}/deliveries/{deliveryId}/retry, or everything failed since a time with POST /v1/webhook-endpoints/{id}/recover. ' +
    'Each attempt is logged: GET /v1/webhook-endpoints/{id}/deliveries.',
  '',
  'An answer of **410 Gone** disables the endpoint at once; so does failing without a single success for **5 days** — the endpoint turns `disabled` ' +
    'with a `disabledReason`, and the tenant is emailed. A disabled endpoint receives no new events; its pending deliveries wait until it is ' +
    'enabled again (PATCH `{ "status": "enabled" }`). Events about one account reach an endpoint in order: a delivery waits while an earlier one ' +
    'about the same account to that endpoint is still pending (being retried).',
  '',
  'Verifying a delivery in Node, without dependencies:',
  '',
  '```js',
  "import { createHmac, timingSafeEqual } from 'node:crypto';",
  '',
  '// secret: "whsec_…"; headers: lower-case names; body: the raw request body as a string, exactly as received.',
  'export function verifyTallyWebhook(secret, headers, body) {',
  "  const id = headers['webhook-id'];",
  "  const timestamp = headers['webhook-timestamp'];",
  "  const signatures = headers['webhook-signature'] ?? '';",
  "  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) throw new Error('timestamp too old or too new');",
  "  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');",
  "  const expected = Buffer.from(createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64'));",
  "  const valid = signatures.split(' ').some((entry) => {",
  "    const [version, signature = ''] = entry.split(',');",
  '    const given = Buffer.from(signature);',
  "    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);",
  '  });',
  "  if (!valid) throw new Error('no valid signature');",
  '  return JSON.parse(body); // { id, type, createdAt, data }: id is webhook-id, deduplicate on it',
  '}',
  '```',
].join('\n');
