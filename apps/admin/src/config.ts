import {
  amqpEnv,
  cellEnv,
  cellOf,
  databaseEnv,
  envClass,
  int,
  list,
  loadEnv,
  optionalEmail,
  optionalText,
  port,
  redisEnv,
  refine,
  requiredInProduction,
  runtimeEnv,
} from '#config';

export const adminEnv = {
  ...runtimeEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...redisEnv,
  ...cellEnv,
  ...port('ADMIN_PORT', 3001),
  /** Browser origins allowed to call the admin API besides its own (the dashboard is same-origin). */
  ADMIN_CORS_ORIGINS: refine(
    list(),
    (origins) => origins.every((o) => /^https?:\/\/[^/\s]+$/.test(o)),
    'each origin must be scheme://host[:port]',
  ),
  /** Wrong passwords per operator account before sign-in waits… */
  ADMIN_LOGIN_MAX_FAILURES: int(1, 1000, 5),
  /** …and the seconds in which they are forgiven. */
  ADMIN_LOGIN_FAILURE_WINDOW_SECONDS: int(1, 86_400, 900),
  /** Sign-in attempts per client address per minute. */
  ADMIN_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: int(1, 100_000, 30),
  /** Signs operators' access tokens (HS256, ≥ 32 characters). Unset: a random key per start (development only). */
  ADMIN_JWT_SECRET: requiredInProduction(optionalText(32)),
  /** Access token lifetime. */
  ADMIN_ACCESS_TTL_SECONDS: int(30, 24 * 3600, 900),
  /** Refresh token lifetime. */
  ADMIN_REFRESH_TTL_SECONDS: int(300, 90 * 24 * 3600, 7 * 24 * 3600),
  /**
   * Balance adjustments need a second operator's approval once the requesting operator's
   * adjustments in one currency (pending and executed, this one included) add up past this (minor
   * units) within the window below: fifty small ones are no way around it.
   */
  ADMIN_ADJUSTMENT_APPROVAL_THRESHOLD: int(0, Number.MAX_SAFE_INTEGER, 100_000),
  /** The rolling window, in seconds, of that per-operator total (default a day). */
  ADMIN_ADJUSTMENT_APPROVAL_WINDOW_SECONDS: int(60, 31 * 86_400, 86_400),
  /**
   * Settling a payout mismatch whose payout is above this (minor units) waits for a second
   * operator's approval; up to it, it is settled at once.
   */
  ADMIN_PAYOUT_SETTLE_APPROVAL_THRESHOLD: int(0, Number.MAX_SAFE_INTEGER, 100_000),
  /** Seconds between two samples of the queue depths and the outbox backlog (the dashboard's history). */
  ADMIN_METRICS_SAMPLE_SECONDS: int(1, 3600, 15),
  /** Days the samples are kept before they are deleted. */
  ADMIN_METRICS_RETENTION_DAYS: int(1, 366, 14),
  /** The first admin, created on first start when there is no operator yet. */
  ADMIN_EMAIL: optionalEmail(),
  ADMIN_PASSWORD: optionalText(12),
};
/** The admin's configuration as a class-validator class (its static lists serve deploy checks). */
export const AdminEnv = envClass(adminEnv, 'AdminEnv');
export type AdminConfig = ReturnType<typeof loadAdminConfig>;
export const loadAdminConfig = (env: Record<string, string | undefined> = process.env) => {
  const config = loadEnv(AdminEnv, env);
  cellOf(config); // both cell variables or neither
  return config;
};
