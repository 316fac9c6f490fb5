import {
  amqpEnv,
  bool,
  databaseEnv,
  int,
  loadEnv,
  outboxEnv,
  port,
  rateLimitEnv,
  runtimeEnv,
  webhookEnv,
} from '#config';

export const gatewayEnv = {
  ...runtimeEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...outboxEnv,
  ...webhookEnv,
  ...rateLimitEnv,
  ...port('GATEWAY_PORT', 3000),
  /** How long Idempotency-Keys are remembered; API.md promises at least 24 hours. */
  IDEMPOTENCY_RETENTION_HOURS: int(24, 24 * 90, 24),
  /** Swagger UI at /docs and the OpenAPI document at /docs-json. */
  DOCS_ENABLED: bool(true),
};
export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export const loadGatewayConfig = () => loadEnv(gatewayEnv);
