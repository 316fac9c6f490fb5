import { z } from 'zod';

/** Thrown at start-up when an environment variable is missing a valid value. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export const int = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .default(String(fallback))
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (schemes: string[], fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine(
      (v) => {
        try {
          return schemes.includes(new URL(v).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      `must be a URL with scheme ${schemes.join(' or ')}`,
    );

const optionalUrl = (schemes: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .refine(
      (v) => {
        if (v === undefined) return true;
        try {
          return schemes.includes(new URL(v).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      `must be a URL with scheme ${schemes.join(' or ')}`,
    );

/** A comma-separated list of trimmed, non-empty items (unset or empty: no items). */
export const list = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );

const intList = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine(
      (v) => /^\d+(,\d+)*$/.test(v.replace(/\s/g, '')),
      'must be a comma-separated list of whole numbers',
    )
    .transform((v) => v.replace(/\s/g, '').split(',').map(Number))
    .refine((xs) => xs.every((x) => x > 0 && x <= 86_400_000), 'each value must be between 1 and 86400000')
    .refine((xs) => xs.every((x, i) => i === 0 || x >= xs[i - 1]), 'must not decrease');

/**
 * Variables whose default only makes sense on a developer's machine (a loopback address, a key
 * made up per start): with NODE_ENV=production they must be set explicitly. Deployment manifests
 * are checked against this list (test/unit/deploy), so it is the one place that says what a
 * deployment has to provide.
 */
const productionRequired = new WeakSet<z.ZodType>();
export function requiredInProduction<T extends z.ZodType>(schema: T): T {
  productionRequired.add(schema);
  return schema;
}

/** The variables of `shape` that production must set (see requiredInProduction). */
export function productionRequiredVariables(shape: z.ZodRawShape): string[] {
  return Object.entries(shape)
    .filter(([, schema]) => productionRequired.has(schema as z.ZodType))
    .map(([name]) => name);
}

export const runtimeEnv = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HTTP_HOST: z.string().trim().min(1).default('0.0.0.0'),
  SHUTDOWN_GRACE_MS: int(0, 120_000, 10_000),
  /** Behind a reverse proxy or ingress: take the client address from X-Forwarded-For. */
  HTTP_TRUST_PROXY: bool(false),
};

export const databaseEnv = {
  /** The apps' connection: the least-privileged `tally_app` role (it cannot rewrite the ledger). */
  DATABASE_URL: requiredInProduction(
    url(['postgres', 'postgresql'], 'postgres://tally_app@127.0.0.1:5432/tally'),
  ),
  /** The schema owner's connection, used only to create the database and run migrations. */
  DATABASE_MIGRATION_URL: url(['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:5432/tally'),
  DATABASE_POOL_MAX: int(1, 200, 10),
  DATABASE_STATEMENT_TIMEOUT_MS: int(100, 600_000, 15_000),
  /** Development convenience: create the database if missing and run migrations at start-up. */
  DATABASE_MIGRATE_ON_START: bool(true),
};

/** The migrate command: it connects as the schema owner, and only as the schema owner. */
export const migrationEnv = {
  ...databaseEnv,
  DATABASE_URL: url(['postgres', 'postgresql'], 'postgres://tally_app@127.0.0.1:5432/tally'),
  DATABASE_MIGRATION_URL: requiredInProduction(
    url(['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:5432/tally'),
  ),
};

export const amqpEnv = {
  AMQP_URL: requiredInProduction(url(['amqp', 'amqps'], 'amqp://guest:guest@127.0.0.1:5672')),
  /** Prepended to every exchange and queue name, so test runs never see each other. */
  AMQP_PREFIX: z
    .string()
    .trim()
    .regex(/^[a-z0-9_.-]*$/, 'may only contain a-z, 0-9, ".", "_" and "-"')
    .max(64)
    .default(''),
  AMQP_PREFETCH: int(1, 5000, 100),
  /** Quorum queue x-delivery-limit: deliveries of one message before the broker dead-letters it. */
  AMQP_DELIVERY_LIMIT: int(1, 1000, 5),
  /** Delay tiers for transient failures, in milliseconds, one per retry. */
  RETRY_DELAYS_MS: intList('1000,10000,60000,300000'),
  /** Total attempts (first delivery included) before a transiently failing message is dead-lettered. */
  RETRY_MAX_ATTEMPTS: int(1, 100, 5),
};

export const outboxEnv = {
  OUTBOX_RELAY_ENABLED: bool(true),
  OUTBOX_BATCH_SIZE: int(1, 10_000, 500),
  OUTBOX_POLL_INTERVAL_MS: int(10, 60_000, 1000),
  OUTBOX_PUBLISH_TIMEOUT_MS: int(100, 120_000, 10_000),
};

const httpPorts = new WeakSet<z.ZodType>();

/** The app's HTTP port (API, /health, /metrics): one per app. */
export const port = <K extends string>(variable: K, fallback: number) => {
  const schema = int(1, 65535, fallback);
  httpPorts.add(schema);
  return { [variable]: schema } as Record<K, ReturnType<typeof int>>;
};

/** The variable of `shape` that holds the app's HTTP port (for deployment checks). */
export function httpPortVariable(shape: z.ZodRawShape): string | undefined {
  return Object.entries(shape).find(([, schema]) => httpPorts.has(schema as z.ZodType))?.[0];
}

/**
 * Validates `env` against `shape` and returns the typed values.
 * Throws a ConfigError naming every bad variable; nothing else is read from process.env later.
 */
export function loadEnv<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  // Empty strings mean "unset", as in most process managers.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = z.object(shape).safeParse(cleaned);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        message: issue.message,
      }));
  if (cleaned.NODE_ENV === 'production') {
    for (const variable of productionRequiredVariables(shape)) {
      if (cleaned[variable] === undefined && !problems.some((p) => p.variable === variable)) {
        problems.push({
          variable,
          message: 'must be set in production (the default is for local development)',
        });
      }
    }
  }
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  return result.data;
}

export type RuntimeConfig = z.infer<z.ZodObject<typeof runtimeEnv>>;
export type DatabaseConfig = z.infer<z.ZodObject<typeof databaseEnv>>;
export type AmqpConfig = z.infer<z.ZodObject<typeof amqpEnv>>;
export type OutboxConfig = z.infer<z.ZodObject<typeof outboxEnv>>;

/** Where webhooks may go (gateway checks at registration, notification again at delivery). */
export const webhookEnv = {
  /**
   * Keys that encrypt webhook signing secrets at rest: comma-separated, each 32 random bytes in
   * base64 (`openssl rand -base64 32`). The first encrypts, all decrypt (rotation). Required in
   * production; development and tests fall back to a fixed development key.
   */
  WEBHOOK_ENCRYPTION_KEYS: requiredInProduction(
    list()
      .transform((keys) => keys.map((k) => Buffer.from(k, 'base64')))
      .refine((keys) => keys.every((k) => k.length === 32), 'each key must be 32 bytes, base64-encoded'),
  ),
  /** Hosts or CIDRs allowed although private, loopback or link-local (comma-separated). */
  WEBHOOK_ALLOWED_HOSTS: list(),
};

/** Shared state for rate limits: Redis when REDIS_URL is set, else each process keeps its own. */
export const redisEnv = {
  REDIS_URL: optionalUrl(['redis', 'rediss']),
  /** Prepended to every key, so several deployments (or test runs) can share one Redis. */
  REDIS_KEY_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.:-]*$/, 'may only contain letters, digits, ".", "_", ":" and "-"')
    .max(64)
    .default('tally:'),
  /** A Redis command slower than this fails, and the rate limit fails open. */
  REDIS_TIMEOUT_MS: int(5, 5_000, 100),
};

/** A token bucket per API key and route class: refill rate per second and burst size. */
export const rateLimitEnv = {
  ...redisEnv,
  RATE_LIMIT_ENABLED: bool(true),
  RATE_LIMIT_WRITES_PER_SECOND: int(1, 1_000_000, 100),
  RATE_LIMIT_WRITES_BURST: int(1, 1_000_000, 200),
  RATE_LIMIT_READS_PER_SECOND: int(1, 1_000_000, 100),
  RATE_LIMIT_READS_BURST: int(1, 1_000_000, 200),
  /** Requests to POST /v1/events (each carries up to 500 events). */
  RATE_LIMIT_EVENTS_PER_SECOND: int(1, 1_000_000, 50),
  RATE_LIMIT_EVENTS_BURST: int(1, 1_000_000, 100),
};
