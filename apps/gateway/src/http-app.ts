import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { HttpAppOptions } from '#http';
import type { GatewayConfig } from './config.js';
import { openApiDocument } from './docs/openapi.js';
import { GatewayModule } from './gateway.module.js';
import { parseJson, stringifyJson } from './http/json.js';
import { problemOf } from '#http';

/** The gateway's HTTP app, as main.ts starts it and the in-process tests boot it. */
export function gatewayHttpApp(config: GatewayConfig): HttpAppOptions {
  return {
    module: GatewayModule.register(config),
    port: config.GATEWAY_PORT,
    host: config.HTTP_HOST,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    bodyLimit: 64 * 1024,
    trustProxy: config.HTTP_TRUST_PROXY,
    frameworkProblem: (error, requestId) => {
      const { problem, headers } = problemOf(error, requestId);
      return { status: problem.status, body: { ...problem }, headers };
    },
    json: { parse: parseJson, stringify: stringifyJson },
    configure: (app) => {
      if (config.DOCS_ENABLED) {
        SwaggerModule.setup('docs', app, openApiDocument as unknown as OpenAPIObject, {
          jsonDocumentUrl: 'docs-json',
        });
      }
    },
  };
}
