import { amqpEnv, databaseEnv, loadEnv, port, runtimeEnv } from '#config';

export const adminEnv = { ...runtimeEnv, ...databaseEnv, ...amqpEnv, ...port('ADMIN_PORT', 3001) };
export type AdminConfig = ReturnType<typeof loadAdminConfig>;
export const loadAdminConfig = () => loadEnv(adminEnv);
