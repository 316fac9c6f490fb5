import { HOLD_EXPIRY_SECONDS, MAX_JSON_DEPTH } from '#domain';
import { ApiError, problemOf, problemsDecorator } from '#http';

/**
 * Every error code the gateway answers, with its status and an example detail: each operation
 * lists its codes with `@ApiProblems`, and the document shows one example per code.
 */
export const GATEWAY_PROBLEMS = {
  validation_error: [400, 'The request is not valid.'],
  idempotency_key_required: [400, 'POST /v1/transactions needs an Idempotency-Key header.'],
  invalid_json: [400, `The body is not valid JSON (or nests deeper than ${MAX_JSON_DEPTH} levels).`],
  invalid_input: [
    400,
    'A value in the request cannot be stored or compared (for example a NUL character or an out-of-range date).',
  ],
  unauthorized: [401, 'The API key or customer access token is missing, not valid, expired, or revoked.'],
  refresh_token_reused: [401, 'This refresh token was already used: the session is revoked. Open a new one.'],
  insufficient_funds: [402, 'The available balance (posted − held) of the account is less than the amount.'],
  forbidden: [403, 'A customer access token cannot call this operation; it needs an API key.'],
  account_not_found: [404, 'Account acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C does not exist.'],
  transaction_not_found: [404, 'Transaction txn_01JD3Z9T1M2N3P4Q5R6S7T8V9W does not exist.'],
  hold_not_found: [404, 'Hold hold_01JD3ZB2C3D4E5F6G7H8J9K0MN does not exist.'],
  event_not_found: [404, 'Usage event req-7f3a9c does not exist.'],
  event_type_not_found: [404, 'No event type "api.call" is registered.'],
  webhook_endpoint_not_found: [
    404,
    'No such webhook endpoint in this tenant (never created, deleted, or not a `whe_…` id).',
  ],
  webhook_delivery_not_found: [404, 'No such delivery for this webhook endpoint.'],
  order_not_found: [404, 'Order ord_01JD3ZF6G7H8J9K0M1N2P3Q4R5 does not exist.'],
  product_not_found: [404, 'Product prod_01JD3Z8Q4N6V3F5W7X9Y1A2B3C does not exist.'],
  external_ref_taken: [409, 'Another account of this tenant has that externalRef.'],
  meter_exists: [409, 'A meter for this event type already exists.'],
  event_type_exists: [409, 'An event type "api.call" is already registered; change its schema with PUT.'],
  out_of_stock: [409, 'Product prod_01JD3Z8Q4N6V3F5W7X9Y1A2B3C has 1 available; 2 were asked for.'],
  inventory_contention: [409, 'The stock of these products changed under 5 attempts in a row; try again.'],
  order_not_cancellable: [
    409,
    'Order ord_01JD3ZF6G7H8J9K0M1N2P3Q4R5 is completed; only a reserved order can be cancelled.',
  ],
  order_not_completed: [
    409,
    'Order ord_01JD3ZF6G7H8J9K0M1N2P3Q4R5 is reserved; a receipt exists once it is completed.',
  ],
  sku_taken: [409, 'A product with SKU LAMP-RED-01 exists already.'],
  insufficient_stock: [
    409,
    'Product prod_01JD3Z8Q4N6V3F5W7X9Y1A2B3C has 8 on hand and 6 reserved; a change of -3 would leave less on hand than is reserved.',
  ],
  hold_not_active: [
    409,
    'The hold is captured, voided, expired or already being captured; only an active hold can be captured or voided.',
  ],
  idempotency_key_in_use: [
    409,
    'A request with this Idempotency-Key is still being handled (retry after Retry-After).',
  ],
  payload_too_large: [413, 'The request body is larger than 64 KiB.'],
  uri_too_long: [414, 'A path segment of the URL is too long.'],
  unsupported_media_type: [415, 'Send the body as application/json.'],
  currency_mismatch: [422, "The currency is not the account's currency."],
  account_frozen: [422, 'The account is frozen.'],
  product_archived: [422, 'Product prod_01JD3Z8Q4N6V3F5W7X9Y1A2B3C is archived; it cannot be ordered.'],
  not_purchased: [
    422,
    'Account acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C has no completed order for product prod_01JD3Z8Q4N6V3F5W7X9Y1A2B3C; only buyers may rate it.',
  ],
  transaction_not_refundable: [422, 'Only a succeeded charge, withdrawal or capture can be refunded.'],
  refund_exceeds_remaining: [422, 'The refund is more than what remains refundable of the parent.'],
  capture_exceeds_hold: [422, 'The amount is more than the hold.'],
  idempotency_key_reused: [422, 'The Idempotency-Key was used with a different request.'],
  webhook_url_refused: [422, 'Webhook URLs must use https.'],
  invalid_event_schema: [422, 'The schema is not a valid JSON Schema (draft 2020-12).'],
  rate_limited: [
    429,
    'Too many requests of this class (writes, reads or events) for this API key; retry after Retry-After seconds.',
  ],
  service_unavailable: [503, 'The service is briefly unavailable; please retry.'],
} as const satisfies Record<string, readonly [number, string]>;

export type GatewayProblemCode = keyof typeof GATEWAY_PROBLEMS;

/** `webhook_url_refused`, once per reason the URL policy gives (one named example each). */
const URL_REFUSALS: [name: string, detail: string][] = [
  ['not_a_url', 'The URL is not valid.'],
  ['not_https', 'Webhook URLs must use https.'],
  ['credentials', 'Webhook URLs may not carry credentials.'],
  ['unresolvable', 'The host hooks.example.invalid cannot be resolved.'],
  ['dns_timeout', 'The host hooks.example.com did not resolve within 5 s (its name servers did not answer).'],
  [
    'private_address',
    'The host intranet.example.com resolves to a private, loopback or link-local address (10.0.0.7); allow it with WEBHOOK_ALLOWED_HOSTS.',
  ],
];

/**
 * What any request may get: a bad key or token, an operation a customer token may not call, a full
 * bucket, the database briefly away.
 */
const ALWAYS: GatewayProblemCode[] = ['unauthorized', 'forbidden', 'rate_limited', 'service_unavailable'];
/** What a request with a JSON body may get before its handler runs. */
export const BODY_PROBLEMS: GatewayProblemCode[] = [
  'validation_error',
  'invalid_json',
  'invalid_input',
  'payload_too_large',
  'unsupported_media_type',
];
/** What a request with a query string may get. */
export const QUERY_PROBLEMS: GatewayProblemCode[] = ['validation_error', 'invalid_input'];
/** What a request naming a resource in its path may get, besides the resource's own 404. */
export const PATH_PROBLEMS: GatewayProblemCode[] = ['uri_too_long', 'invalid_input'];
/** What a write under an Idempotency-Key may get. */
export const KEY_PROBLEMS: GatewayProblemCode[] = ['idempotency_key_in_use', 'idempotency_key_reused'];

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'string', pattern: '^\\d+$' },
  },
};
const RATE_LIMIT = {
  'RateLimit-Policy': {
    description:
      'The bucket (IETF RateLimit headers draft): quota `q` per window `w` seconds, e.g. `"writes";q=200;w=2`. Sent on every answer.',
    schema: { type: 'string' },
  },
  RateLimit: {
    description:
      'Requests left `r` and seconds `t` until the quota is whole again, e.g. `"writes";r=0;t=2`. Sent on every answer.',
    schema: { type: 'string' },
  },
};
/** The headers a success of a rate-limited route carries. */
export const RATE_LIMIT_HEADERS = RATE_LIMIT;
const HEADERS: Record<number, Record<string, { description: string; schema: object }>> = {
  409: RETRY_AFTER,
  429: { ...RETRY_AFTER, ...RATE_LIMIT },
  503: RETRY_AFTER,
};

const CODES_KEY = 'tally:gateway-problems';

/**
 * Documents the error answers of an operation, one example per code, grouped by status. Several
 * uses on one operation add up.
 */
export const ApiProblems = problemsDecorator<GatewayProblemCode>({
  key: CODES_KEY,
  statusOf: (code) => GATEWAY_PROBLEMS[code][0],
  examplesOf: (code) => examplesOf(code),
  always: ALWAYS,
  headers: HEADERS,
});

/** The codes `@ApiProblems` gave a handler. */
export function problemsOf(handler: object): GatewayProblemCode[] {
  return (Reflect.getMetadata(CODES_KEY, handler) as GatewayProblemCode[] | undefined) ?? [];
}

const REQUEST_ID = '2b1c6a1e-58f5-4f63-9b0e-2f0b8d1c9a77';

/** The named examples of `code`, as the one mapper writes them. */
function examplesOf(code: GatewayProblemCode): [string, { summary: string; value: object }][] {
  const [status, detail] = GATEWAY_PROBLEMS[code];
  if (code === 'webhook_url_refused') {
    return URL_REFUSALS.map(([name, text]) => [
      `webhook_url_refused_${name}`,
      {
        summary: `webhook_url_refused (${name})`,
        value: problemOf(new ApiError(status, code, text), REQUEST_ID).problem,
      },
    ]);
  }
  const errors =
    code === 'validation_error'
      ? [
          {
            field: 'expiresInSeconds',
            message: `must be at least ${HOLD_EXPIRY_SECONDS.min} seconds`,
          },
        ]
      : undefined;
  return [
    [
      code,
      { summary: code, value: problemOf(new ApiError(status, code, detail, errors), REQUEST_ID).problem },
    ],
  ];
}
