import type { IncomingMessage } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import pino from 'pino';
import { Correlation, requestIdOf } from './correlation.js';

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

/** nestjs-pino parameters: JSON logs, one line per request, secrets redacted. */
export function loggerParams(app: string, level: string): Params {
  return {
    // The package default ('{/*splat}') does not match under the Fastify adapter here.
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: {
      ...pinoOptions(app, level),
      genReqId: (req: IncomingMessage) => requestIdOf(req),
      autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
      serializers: {
        // Method and URL only: headers may carry keys, bodies may carry personal data.
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customSuccessObject: (req: IncomingMessage, _res: unknown, value: object) => ({
        ...value,
        correlationId: requestIdOf(req),
      }),
      customErrorObject: (req: IncomingMessage, _res: unknown, _error: Error, value: object) => ({
        ...value,
        correlationId: requestIdOf(req),
      }),
    },
  };
}
