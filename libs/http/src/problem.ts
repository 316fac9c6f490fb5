import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MAX_JSON_DEPTH, isDomainError, stringifyJson } from '#domain';
import { isDataException, isDatabaseUnavailable } from '#persistence';
import { requestIdOf } from '#observability';

export interface FieldError {
  field: string;
  message: string;
}

/** An HTTP-level failure with a stable code: bad input, auth, idempotency, not found, … */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class ValidationError extends ApiError {
  constructor(errors: FieldError[], message = 'The request is not valid.') {
    super(400, 'validation_error', message, errors);
  }
}

/** HTTP status of each business-rule code. The one place a domain error becomes a status. */
const DOMAIN_STATUS: Record<string, number> = {
  account_not_found: 404,
  transaction_not_found: 404,
  external_ref_taken: 409,
  currency_mismatch: 422,
  account_frozen: 422,
  same_account: 422,
  transaction_not_refundable: 422,
  refund_exceeds_remaining: 422,
  insufficient_funds: 402,
  amount_overflow: 422,
  hold_not_found: 404,
  hold_not_active: 409,
  capture_exceeds_hold: 422,
  meter_exists: 409,
  event_not_found: 404,
  event_type_exists: 409,
  event_type_not_found: 404,
  invalid_event_schema: 422,
  webhook_endpoint_not_found: 404,
  webhook_delivery_not_found: 404,
  webhook_url_refused: 422,
  product_not_found: 404,
  sku_taken: 409,
  insufficient_stock: 409,
  product_archived: 422,
  not_purchased: 422,
  out_of_stock: 409,
  order_not_found: 404,
  order_not_cancellable: 409,
  order_not_completed: 409,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Errors raised before a handler runs (Fastify's own, and the body parser's) and what they mean to a client. */
const FASTIFY_CODES: Record<string, [number, string, string]> = {
  JSON_TOO_DEEP: [
    400,
    'invalid_json',
    `The body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels.`,
  ],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'The request body is larger than 64 KiB.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Send the body as application/json.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    400,
    'invalid_content_length',
    'Content-Length does not match the body.',
  ],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json', 'The body is empty; send a JSON object.'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json', 'The body is not valid JSON.'],
  FST_ERR_BAD_URL: [400, 'bad_url', 'The URL is not valid.'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'uri_too_long', 'A path segment of the URL is too long.'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'bad_request', 'The request could not be routed.'],
};

/** Framework HTTP exceptions (routing, body parsing) by status. */
const HTTP_CODES: Record<number, [string, string]> = {
  400: ['bad_request', 'The request could not be understood.'],
  404: ['not_found', 'No such resource.'],
  405: ['method_not_allowed', 'This method is not allowed here.'],
  413: ['payload_too_large', 'The request body is larger than 64 KiB.'],
  415: ['unsupported_media_type', 'Send the body as application/json.'],
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  requestId: string;
}

export function problemOf(
  error: unknown,
  requestId: string,
): { problem: Problem; headers: Record<string, string> } {
  let status = 500;
  let code = 'internal_error';
  let detail = 'Something went wrong on our side. It has been logged; please retry later.';
  let errors: FieldError[] | undefined;
  let headers: Record<string, string> = {};

  if (error instanceof ApiError) {
    ({ status, code, errors, headers } = error);
    detail = error.message;
  } else if (isDomainError(error)) {
    status = DOMAIN_STATUS[error.code] ?? 422;
    code = error.code;
    detail = error.message;
  } else if (error instanceof HttpException) {
    status = error.getStatus();
    [code, detail] = HTTP_CODES[status] ?? [
      status >= 500 ? 'internal_error' : 'bad_request',
      'The request could not be handled.',
    ];
    if (status >= 500) status = 500;
  } else if (
    typeof (error as { code?: unknown })?.code === 'string' &&
    FASTIFY_CODES[(error as { code: string }).code]
  ) {
    [status, code, detail] = FASTIFY_CODES[(error as { code: string }).code];
  } else if (isDataException(error)) {
    status = 400;
    code = 'invalid_input';
    detail =
      'A value in the request cannot be stored or compared (for example a NUL character or an out-of-range date).';
  } else if (isDatabaseUnavailable(error)) {
    status = 503;
    code = 'service_unavailable';
    detail = 'The service is briefly unavailable; please retry.';
    headers = { 'Retry-After': '1' };
  } else if (typeof (error as { statusCode?: unknown })?.statusCode === 'number') {
    // Any other Fastify client error (4xx) is reported as it is, never as a 500.
    const s = (error as { statusCode: number }).statusCode;
    if (s >= 400 && s < 500) {
      status = s;
      code = 'bad_request';
      detail = 'The request could not be understood.';
    }
  }
  return {
    problem: {
      type: `https://tally.dev/problems/${code}`,
      title: TITLES[status] ?? 'Error',
      status,
      detail,
      code,
      ...(errors ? { errors } : {}),
      requestId,
    },
    headers,
  };
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  error: unknown,
  log?: Logger,
): void {
  const { problem, headers } = problemOf(error, requestIdOf(request.raw));
  if (problem.status >= 500 && log) log.error({ err: error, requestId: problem.requestId }, 'request failed');
  void reply
    .code(problem.status)
    .headers(headers)
    .header('Content-Type', 'application/problem+json')
    .send(stringifyJson(problem));
}

/** The one error-to-problem mapper: every error leaving a handler becomes RFC 9457 problem+json. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly log = new Logger('Problem');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(http.getResponse<FastifyReply>(), http.getRequest<FastifyRequest>(), error, this.log);
  }
}

/**
 * The problem+json for errors Fastify's router raises before any filter runs (a URL that does not
 * decode, a path segment too long): the same mapper, so they read like every other error.
 */
export function frameworkProblemOf(error: unknown, requestId: string) {
  const { problem, headers } = problemOf(error, requestId);
  return { status: problem.status, body: { ...problem } as Record<string, unknown>, headers };
}
