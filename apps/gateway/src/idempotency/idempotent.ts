import {
  Inject,
  Injectable,
  Res,
  SetMetadata,
  UseInterceptors,
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, mergeMap, type Observable } from 'rxjs';
import type { EntityManager } from 'typeorm';
import { ApiError } from '#http';
import { IdempotencyKeyHeader } from '../docs/operations.js';
import {
  IdempotencyService,
  type IdempotentCall,
  type Outcome,
  type StoredResponse,
} from './idempotency.service.js';

export interface IdempotentOptions {
  /** docs/api.md makes the Idempotency-Key mandatory on this route (the money routes). */
  required: boolean;
  /** Why it is required, when the route says more than the rule (ends the 400's message). */
  because?: string;
}

/** The write, in the database transaction that holds the key's lock. */
type Work = (manager: EntityManager) => Promise<StoredResponse>;
/** The write as one statement that takes the key's lock itself (the batched accept path). */
type OneStatement = Parameters<IdempotencyService['executeInOneStatement']>[1];
/** What the answer becomes once the write is done (waited for, counted…). */
type Finish = (outcome: Outcome) => Outcome | Promise<Outcome>;

/**
 * What an @Idempotent handler returns, once it has validated its request: the write, which the
 * interceptor runs under the request's key and answers.
 */
export type IdempotentWrite =
  | { work: Work; oneStatement?: never; finish?: Finish }
  | { oneStatement: OneStatement; work?: never; finish?: Finish };

export const idempotentWrite = (work: Work, finish?: Finish): IdempotentWrite => ({ work, finish });

export const idempotentOneStatement = (oneStatement: OneStatement, finish?: Finish): IdempotentWrite => ({
  oneStatement,
  finish,
});

const IDEMPOTENT = 'tally:idempotent';

/**
 * Idempotency-Key handling for a POST: the key is checked (`required`: its absence is 400
 * idempotency_key_required, before the body is looked at), the handler validates its request and
 * returns its write (an IdempotentWrite), and the write runs under the key — a retry gets the
 * first answer again (Idempotent-Replayed: true), a concurrent one 409, another request under the
 * key 422. Documents the header in the OpenAPI document.
 */
export function Idempotent(options: IdempotentOptions): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    // The answer is sent as stored (its status, headers and text), which Nest's own reply would
    // override with the route's status: a @Res() after the handler's parameters tells Nest to
    // leave the reply to the interceptor. Parameter decorators have run by now.
    const declared = Reflect.getMetadata('design:paramtypes', target, propertyKey) as unknown[] | undefined;
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, propertyKey) ?? {}) as Record<
      string,
      { index: number }
    >;
    const after = Math.max(
      declared?.length ?? 0,
      (descriptor.value as (...a: unknown[]) => unknown).length,
      ...Object.values(args).map((a) => a.index + 1),
    );
    Res()(target, propertyKey, after);
    applyDecorators(
      IdempotencyKeyHeader(options.required),
      SetMetadata(IDEMPOTENT, options),
      UseInterceptors(IdempotencyInterceptor),
    )(target, propertyKey, descriptor);
  };
}

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<IdempotentWrite>): Observable<void> {
    const options = this.reflector.get<IdempotentOptions>(IDEMPOTENT, context.getHandler());
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const key = request.headers['idempotency-key'] as string | undefined;
    if (key === undefined && options.required) throw keyRequired(request, options);
    return next.handle().pipe(
      mergeMap((write) => {
        const tenant = request.tenant;
        if (!tenant) throw new Error('@Idempotent used on a route without credentials');
        const call: IdempotentCall = {
          tenantId: tenant.tenantId,
          key,
          method: request.method,
          path: request.url,
          body: request.body,
        };
        return from(this.run(call, write).then((outcome) => sendOutcome(reply, outcome)));
      }),
    );
  }

  private async run(call: IdempotentCall, write: IdempotentWrite): Promise<Outcome> {
    let outcome: Outcome;
    if (write.oneStatement) {
      if (call.key === undefined) throw new Error('a one-statement write needs a required key');
      outcome = await this.idempotency.executeInOneStatement({ ...call, key: call.key }, write.oneStatement);
    } else {
      outcome = await this.idempotency.execute(call, write.work!);
    }
    return write.finish ? write.finish(outcome) : outcome;
  }
}

function keyRequired(request: FastifyRequest, options: IdempotentOptions): ApiError {
  const route = (request.routeOptions.url ?? request.url).replace(/:(\w+)/g, '{$1}');
  return new ApiError(
    400,
    'idempotency_key_required',
    `${request.method} ${route} needs an Idempotency-Key header${options.because ? `: ${options.because}` : ''}.`,
  );
}

/** Sends a write's answer exactly as stored, marking replays. */
function sendOutcome(reply: FastifyReply, outcome: Outcome): void {
  const headers: Record<string, string> = { ...outcome.headers, 'Content-Type': outcome.contentType };
  if (outcome.replayed) headers['Idempotent-Replayed'] = 'true';
  void reply.code(outcome.status).headers(headers).send(outcome.text);
}
