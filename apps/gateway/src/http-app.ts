import type { HttpAppOptions } from '#http';
import { frameworkProblemOf } from '#http';
import type { GatewayConfig } from './config.js';
import { serveGatewayDocs } from './docs/gateway-document.js';
import { GatewayModule } from './gateway.module.js';
import { parseJson, stringifyJson } from './http/json.js';

/** The gateway's HTTP app, as main.ts starts it and the in-process tests boot it. */
export function gatewayHttpApp(config: GatewayConfig): HttpAppOptions {
  return {
    module: GatewayModule.register(config),
    port: config.GATEWAY_PORT,
    host: config.HTTP_HOST,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    bodyLimit: 64 * 1024,
    trustProxy: config.HTTP_TRUST_PROXY,
    frameworkProblem: frameworkProblemOf,
    json: { parse: parseJson, stringify: stringifyJson },
    configure: (app) => {
      if (config.DOCS_ENABLED) serveGatewayDocs(app);
    },
  };
}
