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
  /** Group commit of accepts: most requests written by one statement and commit… */
  ACCEPT_BATCH_MAX: int(1, 1000, 64),
  /** …and such statements running at once (each holds a database connection). */
  ACCEPT_BATCHES_IN_FLIGHT: int(1, 50, 1),
  /** Swagger UI at /docs and the OpenAPI document at /docs-json. */
  DOCS_ENABLED: bool(true),
};
export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export const loadGatewayConfig = (env: Record<string, string | undefined> = process.env) =>
  loadEnv(gatewayEnv, env);
