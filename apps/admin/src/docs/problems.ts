import { ApiError, problemOf, problemsDecorator } from '#http';

/**
 * Every error code the admin API answers, with its status and an example detail: the operations
 * list theirs with `@ApiProblems`, and the document shows one example per code.
 */
export const ADMIN_PROBLEMS = {
  validation_error: [400, 'The request is not valid.'],
  invalid_json: [400, 'The body is not valid JSON.'],
  invalid_input: [400, 'A value in the request cannot be stored or compared (for example a NUL character).'],
  idempotency_key_required: [400, 'An adjustment needs an Idempotency-Key header.'],
  unauthorized: [401, 'The access token is not valid or has expired.'],
  forbidden: [403, 'This needs the operator role; you are a viewer.'],
  second_approval_required: [403, 'A second operator must approve this adjustment.'],
  not_found: [404, 'Transaction txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9 does not exist.'],
  order_not_found: [404, 'Order ord_01JD3ZF6G7H8J9K0M1N2P3Q4R5 does not exist.'],
  order_not_completed: [
    409,
    'Order ord_01JD3ZF6G7H8J9K0M1N2P3Q4R5 is reserved; a receipt exists once it is completed.',
  ],
  operator_exists: [409, 'An operator with this email exists already.'],
  already_rerun: [
    409,
    'This transaction has already been re-run (or its re-run awaits approval); it is re-run once.',
  ],
  transaction_not_failed: [409, 'Only a failed transaction can be re-run; this one is succeeded.'],
  not_rerunnable: [409, 'A capture is re-run by capturing its hold again.'],
  adjustment_not_pending: [409, 'This adjustment is already executed.'],
  dead_letter_discarded: [409, 'A discarded dead letter cannot be replayed.'],
  delivery_missing: [409, 'Delivery dlv_01JDQ8Y4T9M2K3N4P5Q6R7S8T9 of this dead letter is gone.'],
  usage_event_not_failed: [409, 'Only a failed event can be re-run; this one is processed.'],
  payout_outcome_required: [
    409,
    'The payout of txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9 has no outcome yet: say whether it was paid (succeeded) or not (failed).',
  ],
  payout_settlement_pending: [
    409,
    'A settlement of txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9 waits for a second operator: approve or reject it first.',
  ],
  payout_settlement_not_pending: [409, 'No settlement of txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9 waits for approval.'],
  payout_mismatch_resolved: [
    409,
    'The payout mismatch of txn_01JDQ8Y4T9M2K3N4P5Q6R7S8T9 is settled already.',
  ],
  payload_too_large: [413, 'The request body is larger than 64 KiB.'],
  uri_too_long: [414, 'A path segment of the URL is too long.'],
  unsupported_media_type: [415, 'Send the body as application/json.'],
  idempotency_key_reused: [
    422,
    'This Idempotency-Key was used with a different adjustment (account, direction, amount or reason).',
  ],
  rate_limited: [429, 'Too many failed sign-ins for this account. Retry after 180 s.'],
  service_unavailable: [503, 'The service is briefly unavailable; please retry.'],
} as const satisfies Record<string, readonly [number, string]>;

export type AdminProblemCode = keyof typeof ADMIN_PROBLEMS;

/** What any request may get: the database briefly away. */
const ALWAYS: AdminProblemCode[] = ['service_unavailable'];
/** What a request with a JSON body may get before its handler runs. */
export const BODY_PROBLEMS: AdminProblemCode[] = [
  'validation_error',
  'invalid_json',
  'invalid_input',
  'payload_too_large',
  'unsupported_media_type',
];
/** What a request naming a resource in its path may get. */
export const PATH_PROBLEMS: AdminProblemCode[] = ['not_found', 'uri_too_long', 'invalid_input'];
export const QUERY_PROBLEMS: AdminProblemCode[] = ['validation_error', 'invalid_input'];

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'string', pattern: '^\\d+$' },
  },
};
const HEADERS: Record<number, Record<string, { description: string; schema: object }>> = {
  429: {
    ...RETRY_AFTER,
    RateLimit: {
      description: 'The bucket that refused: what is left and when it is full.',
      schema: { type: 'string' },
    },
    'RateLimit-Policy': {
      description: 'The bucket: its capacity and refill window.',
      schema: { type: 'string' },
    },
  },
  503: RETRY_AFTER,
};

const CODES_KEY = 'tally:admin-problems';

/**
 * Documents the error answers of an operation, one example per code, grouped by status. Several
 * uses on one operation add up (`@Needs` adds 401 and 403).
 */
export const ApiProblems = problemsDecorator<AdminProblemCode>({
  key: CODES_KEY,
  statusOf: (code) => ADMIN_PROBLEMS[code][0],
  examplesOf: (code) => [[code, { summary: code, value: example(code) }]],
  always: ALWAYS,
  headers: HEADERS,
});

/** The answer for `code`, as the one mapper writes it. */
function example(code: AdminProblemCode) {
  const [status, detail] = ADMIN_PROBLEMS[code];
  const errors =
    code === 'validation_error'
      ? [{ field: 'reason', message: 'reason must be longer than or equal to 3 characters' }]
      : undefined;
  return problemOf(new ApiError(status, code, detail, errors), '0f8e4a6c-2b1d-4c3e-9f70-5a6b7c8d9e0f')
    .problem;
}
