import { amqpEnv, databaseEnv, loadEnv, port, runtimeEnv } from '#config';

export const notificationEnv = {
  ...runtimeEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...port('NOTIFICATION_PORT', 3003),
};
export type NotificationConfig = ReturnType<typeof loadNotificationConfig>;
export const loadNotificationConfig = () => loadEnv(notificationEnv);
