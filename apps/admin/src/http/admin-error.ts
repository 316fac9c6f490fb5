import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isDomainError } from '#domain';
import { isDataException, isDatabaseUnavailable } from '#persistence';
import { requestIdOf } from '#observability';

/** An admin API failure with a stable code (problem+json). */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: { field: string; message: string }[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const unauthorized = (message = 'Log in first.') => new AdminError(401, 'unauthorized', message);
export const forbidden = (message: string) => new AdminError(403, 'forbidden', message);
export const notFound = (what: string) => new AdminError(404, 'not_found', `${what} does not exist.`);

/** Parses `input` with `schema`; a failure is a 400 naming every bad field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new AdminError(
    400,
    'validation_error',
    'The request is not valid.',
    result.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message })),
  );
}

const DOMAIN_STATUS: Record<string, number> = { account_not_found: 404, transaction_not_found: 404 };

/** Every error of the admin API as problem+json; nothing unexpected leaks. */
@Catch()
export class AdminProblemFilter implements ExceptionFilter {
  private readonly log = new Logger('AdminApi');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    let status = 500;
    let code = 'internal_error';
    let detail = 'Something went wrong on our side.';
    let errors: AdminError['errors'];
    if (error instanceof AdminError) {
      ({ status, code, errors } = error);
      detail = error.message;
      void reply.headers(error.headers);
    } else if (isDomainError(error)) {
      status = DOMAIN_STATUS[error.code] ?? 422;
      code = error.code;
      detail = error.message;
    } else if (isDataException(error)) {
      status = 400;
      code = 'invalid_input';
      detail = 'A value in the request cannot be stored or compared.';
    } else if (isDatabaseUnavailable(error)) {
      status = 503;
      code = 'service_unavailable';
      detail = 'The service is briefly unavailable; please retry.';
      void reply.header('retry-after', '1');
    } else if (error instanceof HttpException) {
      status = error.getStatus();
      code = status === 404 ? 'not_found' : status === 415 ? 'unsupported_media_type' : 'bad_request';
      detail = status === 404 ? 'No such resource.' : error.message;
    } else if (
      (error as { statusCode?: number })?.statusCode &&
      (error as { statusCode: number }).statusCode < 500
    ) {
      status = (error as { statusCode: number }).statusCode;
      code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request';
      detail = (error as Error).message;
    } else {
      this.log.error(error instanceof Error ? error.stack : String(error));
    }
    void reply
      .code(status)
      .header('content-type', 'application/problem+json')
      .send({
        type: 'about:blank',
        title: code,
        status,
        detail,
        code,
        errors,
        requestId: requestIdOf(request.raw),
      });
  }
}
