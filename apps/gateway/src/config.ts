import { amqpEnv, databaseEnv, loadEnv, outboxEnv, port, runtimeEnv } from '#config';

export const gatewayEnv = {
  ...runtimeEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...outboxEnv,
  ...port('GATEWAY_PORT', 3000),
};
export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export const loadGatewayConfig = () => loadEnv(gatewayEnv);
