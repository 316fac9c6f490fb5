import type { IncomingMessage } from 'node:http';
import cors from '@fastify/cors';
import helmet, { type HelmetOptions } from 'helmet';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  Logger as NestLogger,
  type DynamicModule,
  type INestApplication,
  type NestApplicationOptions,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { MAX_JSON_DEPTH, jsonNestsDeeperThan } from '#domain';
import { Correlation, Metrics, isQuietPath, requestIdOf } from '#observability';

export interface HttpAppOptions {
  module: DynamicModule;
  port: number;
  host: string;
  shutdownGraceMs: number;
  /** Largest accepted request body, in bytes. */
  bodyLimit?: number;
  /**
   * Replaces the JSON body parser and reply serializer (the gateway's, which keep big integers
   * exact). Only application/json bodies are then accepted: anything else is a 415. Either way,
   * a JSON body nesting deeper than MAX_JSON_DEPTH is a 400 (code JSON_TOO_DEEP) before parsing.
   */
  json?: { parse: (text: string) => unknown; stringify: (value: unknown) => string };
  /** Take the client address from X-Forwarded-For (behind an ingress or reverse proxy). */
  trustProxy?: boolean;
  /** Origins a browser may call this app from (CORS); none by default. */
  corsOrigins?: string[];
  /**
   * The problem+json for errors the router raises before any hook or filter runs (a URL that does
   * not decode, a path parameter too long). Defaults to a generic problem.
   */
  frameworkProblem?: (error: Error & { code?: string }, requestId: string) => FrameworkProblem;
  /** Runs after the app is created and before it listens (consumers, Swagger, …). */
  configure?: (app: NestFastifyApplication) => Promise<void> | void;
}

/**
 * Creates, instruments and starts one Tally app on Fastify. Every app serves HTTP, if only for
 * /health and /metrics.
 */
export async function startHttpApp(options: HttpAppOptions): Promise<NestFastifyApplication> {
  const app = await createHttpApp(options);
  // Graceful shutdown: consumers stop taking messages and finish in-flight ones, the HTTP server
  // drains, connections close; then exit 0. Killed if it takes longer than the grace period.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      const log = new NestLogger('Shutdown');
      log.log(`${signal} received; shutting down`);
      setTimeout(() => {
        log.error(`still running ${options.shutdownGraceMs} ms after ${signal}; exiting`);
        process.exit(1);
      }, options.shutdownGraceMs).unref();
      app.close().then(
        () => {
          log.log('shutdown complete');
          process.exit(0);
        },
        (error: unknown) => {
          log.error(`shutdown failed: ${String(error)}`);
          process.exit(1);
        },
      );
    });
  }
  await listenHttpApp(app, options.port, options.host);
  return app;
}

/**
 * Starts an app made by `createHttpApp`, as every app starts: its lifecycle hooks first (once: see
 * connectAmqpConsumer), then its consumers, which count on what the hooks started, then HTTP.
 */
export async function listenHttpApp(app: NestFastifyApplication, port: number, host: string): Promise<void> {
  await app.init();
  await app.startAllMicroservices();
  await app.listen(port, host);
}

/** How a Nest app is made from the adapter and options below: NestFactory, or a test's module. */
export type NestAppFactory = (
  adapter: FastifyAdapter,
  appOptions: NestApplicationOptions,
) => Promise<NestFastifyApplication>;

/**
 * One Tally app, created and set up exactly as it runs — the Fastify adapter, the JSON parser and
 * serializer, request correlation and the access log, security headers, the logger, HTTP metrics,
 * the app's own `configure` — but not yet listening. `startHttpApp` listens; the in-process tests
 * pass the Nest testing module's factory and listen (`listenHttpApp`) on a port of their own.
 */
export async function createHttpApp(
  options: HttpAppOptions,
  create: NestAppFactory = (adapter, appOptions) =>
    NestFactory.create<NestFastifyApplication>(options.module, adapter, appOptions),
): Promise<NestFastifyApplication> {
  const bodyLimit = options.bodyLimit ?? 64 * 1024;
  const app = await create(
    new FastifyAdapter({
      bodyLimit,
      genReqId: (req: unknown) => requestIdOf(req as IncomingMessage),
      trustProxy: options.trustProxy ?? false,
      // Slow or stuck clients do not hold sockets: a whole request (Prefer: wait is at most
      // 30 s) must arrive and be answered within 40 s, headers within 10 s.
      requestTimeout: 40_000,
      http: { headersTimeout: 10_000 },
      routerOptions: { maxParamLength: 512 },
      frameworkErrors: (error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
        const requestId = requestIdOf(request.raw);
        const { status, body, headers } = (options.frameworkProblem ?? genericFrameworkProblem)(
          error,
          requestId,
        );
        void reply
          .code(status)
          .headers({ ...headers, 'x-request-id': requestId, 'x-content-type-options': 'nosniff' })
          .type('application/problem+json')
          .send(body);
      },
    }),
    { bufferLogs: true, bodyParser: !options.json },
  );
  correlateRequests(app);
  if (options.json) installJson(app, options.json);
  else limitJsonDepth(app, bodyLimit);
  await secureHeaders(app, options.corsOrigins ?? []);
  app.useLogger(app.get(Logger));
  instrumentHttp(app);
  await options.configure?.(app);
  return app;
}

export interface FrameworkProblem {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

function genericFrameworkProblem(error: Error & { code?: string }, requestId: string): FrameworkProblem {
  const [status, code, detail] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, 'uri_too_long', 'A path segment of the URL is too long.']
      : error.code === 'FST_ERR_BAD_URL'
        ? [400, 'bad_url', 'The URL is not valid.']
        : [400, 'bad_request', 'The request could not be routed.'];
  return { status, body: { type: 'about:blank', title: code, status, detail, code, requestId } };
}

/**
 * Helmet's security headers on every response (CSP, HSTS, nosniff, frame-ancestors, referrer
 * policy, …), and CORS only for the origins named — the JSON APIs are not for browsers elsewhere.
 * The headers do not depend on the request, so helmet runs once, at start-up, and each response
 * gets the result instead of running helmet's middleware per request on the hot path.
 */
async function secureHeaders(app: NestFastifyApplication, corsOrigins: string[]): Promise<void> {
  const headers = helmetHeaders({
    contentSecurityPolicy: {
      useDefaults: true,
      // TLS ends at the ingress; the app does not tell browsers to rewrite its own URLs.
      directives: { 'upgrade-insecure-requests': null },
    },
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
  if (corsOrigins.length > 0) {
    await app.register(cors, {
      origin: corsOrigins,
      credentials: false,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
      maxAge: 600,
    });
  }
}

/** The headers helmet would set, computed once by running it against a recording response. */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name];
    },
  };
  let failure: unknown;
  helmet(options)(
    {} as IncomingMessage,
    recorder as unknown as import('node:http').ServerResponse,
    (error?: unknown) => {
      failure = error;
    },
  );
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  return headers;
}

/**
 * The error for a body that nests deeper than MAX_JSON_DEPTH: a 400 (code JSON_TOO_DEEP), found
 * before the body is parsed.
 */
function tooDeep(): Error {
  return Object.assign(new Error(`The body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels.`), {
    statusCode: 400,
    code: 'JSON_TOO_DEEP',
  });
}

/** Fastify's own JSON parser (prototype poisoning refused), behind the depth limit. */
function limitJsonDepth(app: NestFastifyApplication, bodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parse = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit }, (request, body, done) => {
    const text = body.toString('utf8');
    if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) return done(tooDeep(), undefined);
    parse(request as FastifyRequest, text, done);
  });
}

function installJson(app: NestFastifyApplication, json: NonNullable<HttpAppOptions['json']>): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    // Kept for the routes that check a signature over the exact bytes (provider events).
    (request as { rawBody?: string }).rawBody = text;
    if (text.trim() === '') return done(null, undefined);
    if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) return done(tooDeep(), undefined);
    try {
      done(null, json.parse(text));
    } catch {
      done(
        Object.assign(new Error('invalid JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }),
        undefined,
      );
    }
  });
  fastify.setReplySerializer((payload) => json.stringify(payload));
}

/**
 * Every request runs inside its correlation (its acceptable `X-Request-Id` or a new UUID, echoed
 * on the response), so each log line and each message written while serving it carries the id;
 * and each request but probes and scrapes ends with one access log line (info, or error for a
 * 5xx) — method, URL and status only: headers may carry keys, bodies personal data.
 */
function correlateRequests(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  // pino-http gave the root logger serializers for raw Node req/res (a plain status reads as null).
  const plain = (value: object) => value;
  const log = PinoLogger.root.child({}, { serializers: { req: plain, res: plain } });
  // request.id is the correlation id: Fastify's genReqId above is requestIdOf.
  fastify.addHook('onRequest', (request, reply, done) => {
    const correlationId = request.id;
    void reply.header('x-request-id', correlationId);
    Correlation.run({ correlationId }, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const url = request.raw.url ?? '';
    const failed = reply.statusCode >= 500;
    if (!isQuietPath(url) && log.isLevelEnabled(failed ? 'error' : 'info')) {
      const line = {
        req: { id: request.id, method: request.method, url },
        res: { statusCode: reply.statusCode },
        responseTime: Math.round(reply.elapsedTime),
        correlationId: request.id,
      };
      if (failed) log.error(line, 'request errored');
      else log.info(line, 'request completed');
    }
    done();
  });
}

/** HTTP latency histogram by route template (not raw URL, which would explode cardinality). */
function instrumentHttp(app: INestApplication): void {
  const metrics = app.get(Metrics);
  const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.httpRequestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
}

/**
 * Runs a main; a configuration error prints its message (naming the variable) and exits 1.
 * A main that returns a number (a command) exits with it; an app's main returns nothing and runs on.
 */
export function runMain(main: () => Promise<unknown>): void {
  main().then(
    (code) => {
      if (typeof code === 'number') process.exit(code);
    },
    (error: unknown) => {
      const text = error instanceof Error && error.name === 'ConfigError' ? error.message : error;
      console.error(text);
      process.exit(1);
    },
  );
}
