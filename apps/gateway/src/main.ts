import 'reflect-metadata';
import { runMain, startHttpApp } from '#observability';
import { loadGatewayConfig } from './config.js';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { openApiDocument } from './docs/openapi.js';
import { GatewayModule } from './gateway.module.js';
import { parseJson, stringifyJson } from './http/json.js';
import { problemOf } from './http/problem.js';

runMain(async () => {
  const config = loadGatewayConfig();
  await startHttpApp({
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
  });
});
