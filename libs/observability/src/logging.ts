import type { Params } from 'nestjs-pino';
import pino from 'pino';
import { Correlation } from './correlation.js';

/** Paths never written to logs: credentials, keys, secrets, wherever they appear. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  '*.password',
  '*.apiKey',
  '*.secret',
  '*.previousSecret',
  '*.passwordHash',
  '*.password_hash',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.authorization',
  '*.databaseUrl',
  '*.amqpUrl',
];

const QUIET_PATHS = /^\/(health\/|metrics$)/;

export function pinoOptions(app: string, level: string): pino.LoggerOptions {
  return {
    level,
    base: { app, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Every line written inside a request or a message carries its correlation id.
    mixin(mergeObject: object) {
      const store = Correlation.current();
      if (!store || 'correlationId' in mergeObject) return {};
      return store.messageId
        ? { correlationId: store.correlationId, messageId: store.messageId, messageType: store.messageType }
        : { correlationId: store.correlationId };
    },
  };
}

/**
 * nestjs-pino parameters: the app's logger, JSON, secrets redacted. Its per-request middleware is
 * not mounted (no routes): a request's correlation and its access log line come from two Fastify
 * hooks (runtime.ts, `correlateRequests`) — three middlewares per request through Nest's
 * middleware engine cost ~10 % of the gateway's CPU, most of it a child logger made for every
 * request whether or not a line was written.
 */
export function loggerParams(app: string, level: string): Params {
  return { forRoutes: [], pinoHttp: pinoOptions(app, level) };
}

/** Requests not worth an access log line: probes and scrapes. */
export function isQuietPath(url: string): boolean {
  return QUIET_PATHS.test(url);
}
