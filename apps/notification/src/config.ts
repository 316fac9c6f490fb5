import {
  amqpEnv,
  bool,
  databaseEnv,
  envClass,
  int,
  intList,
  loadEnv,
  optionalText,
  port,
  requiredInProduction,
  runtimeEnv,
  text,
  webhookEnv,
} from '#config';

const delays = (fallback: string) => intList(fallback, { min: 10, max: 7 * 24 * 3600_000, maxItems: 30 });

export const notificationEnv = {
  ...runtimeEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...webhookEnv,
  ...port('NOTIFICATION_PORT', 3003),
  /** Waits before each retry of a failed webhook (±20% jitter; Retry-After honoured): 5 s … 10 h. */
  WEBHOOK_RETRY_SCHEDULE_MS: delays('5000,300000,1800000,7200000,18000000,36000000'),
  /** A receiver must answer 2xx within this. */
  WEBHOOK_TIMEOUT_MS: int(100, 60_000, 10_000),
  /** An endpoint failing without a success for this long is disabled and the tenant emailed (5 days). */
  WEBHOOK_DISABLE_AFTER_MS: int(0, 30 * 24 * 3600_000, 5 * 24 * 3600_000),
  /** How often due deliveries are looked for (new ones are sent at once). */
  WEBHOOK_DISPATCH_INTERVAL_MS: int(10, 60_000, 500),
  /**
   * How long a webhook about an account waits for the account's earlier events to reach this app
   * (a retried event, one published by another relay); past it, it goes without them (10 min:
   * longer than the consumer's retry tiers).
   */
  WEBHOOK_ORDER_WAIT_MS: int(0, 24 * 3600_000, 600_000),
  /** Deliveries in flight at once. */
  WEBHOOK_CONCURRENCY: int(1, 200, 16),
  SMTP_HOST: requiredInProduction(text('127.0.0.1')),
  SMTP_PORT: int(1, 65_535, 1025),
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
  SMTP_SECURE: bool(false),
  SMTP_USER: optionalText(),
  SMTP_PASSWORD: optionalText(),
  EMAIL_FROM: text('Tally <notifications@tally.local>', 3),
};
/** The notification app's configuration as a class-validator class (static lists: deploy checks). */
export const NotificationEnv = envClass(notificationEnv, 'NotificationEnv');
export type NotificationConfig = ReturnType<typeof loadNotificationConfig>;
export const loadNotificationConfig = (env: Record<string, string | undefined> = process.env) =>
  loadEnv(NotificationEnv, env);
