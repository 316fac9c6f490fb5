import 'reflect-metadata';
import { Expose, Transform, plainToInstance } from 'class-transformer';
import { ValidateBy, validateSync } from 'class-validator';

/** Thrown at start-up when an environment variable is missing a valid value. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

declare const valueType: unique symbol;

/**
 * One environment variable: how its text becomes a value (a class-transformer @Transform, which
 * also applies the default) and the class-validator rules that value must then pass, in order;
 * the first rule that fails names the problem. Variables are grouped in shapes (plain objects,
 * spread into an app's shape); `envClass` turns a shape into a decorated class.
 */
export interface EnvVariable<T> {
  readonly transform: (raw: string | undefined) => unknown;
  readonly rules: readonly Rule[];
  /** See requiredInProduction. */
  readonly productionRequired?: boolean;
  /** See port. */
  readonly httpPort?: boolean;
  /** The type of the value (compile time only). */
  readonly [valueType]?: T;
}

/** A class-validator constraint on a variable's transformed value, with the message it answers. */
export interface Rule {
  readonly name: string;
  readonly test: (value: unknown) => boolean;
  readonly message: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any variable type
export type EnvShape = Record<string, EnvVariable<any>>;
export type EnvValues<S extends EnvShape> = {
  -readonly [K in keyof S]: S[K] extends EnvVariable<infer T> ? T : never;
};

const rule = (name: string, test: (value: unknown) => boolean, message: string): Rule => ({
  name,
  test,
  message,
});

/** The variable with one more rule, checked after its own. */
export function refine<T>(
  variable: EnvVariable<T>,
  test: (value: T) => boolean,
  message: string,
): EnvVariable<T> {
  return {
    ...variable,
    rules: [...variable.rules, rule('refine', (v) => test(v as T), message)],
  };
}

const trimmed = (raw: string | undefined, fallback?: string) => (raw ?? fallback)?.trim();

export const int = (min: number, max: number, fallback: number): EnvVariable<number> => ({
  transform: (raw) => {
    const text = trimmed(raw, String(fallback))!;
    return /^\d+$/.test(text) ? Number(text) : text;
  },
  rules: [
    rule('isWholeNumber', (v) => typeof v === 'number' && Number.isInteger(v), 'must be a whole number'),
    rule('min', (v) => (v as number) >= min, `must be at least ${min}`),
    rule('max', (v) => (v as number) <= max, `must be at most ${max}`),
  ],
});

/** A positive decimal number (`0.5`, `100`), at most `max`. */
export const positiveNumber = (max: number, fallback: number): EnvVariable<number> => ({
  transform: (raw) => {
    const text = trimmed(raw, String(fallback))!;
    return /^\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  },
  rules: [
    rule('isDecimal', (v) => typeof v === 'number' && Number.isFinite(v), 'must be a number, e.g. 0.5 or 20'),
    rule('positive', (v) => (v as number) > 0, 'must be greater than 0'),
    rule('max', (v) => (v as number) <= max, `must be at most ${max}`),
  ],
});

const BOOLEANS: Record<string, boolean> = {
  true: true,
  '1': true,
  yes: true,
  false: false,
  '0': false,
  no: false,
};

export const bool = (fallback: boolean): EnvVariable<boolean> => ({
  transform: (raw) => {
    const text = raw ?? String(fallback);
    return Object.hasOwn(BOOLEANS, text) ? BOOLEANS[text] : text;
  },
  rules: [rule('isBoolean', (v) => typeof v === 'boolean', 'must be true or false')],
});

/** One of `values` (exactly as written). */
export const oneOf = <const V extends string>(values: readonly V[], fallback: V): EnvVariable<V> => ({
  transform: (raw) => raw ?? fallback,
  rules: [rule('isIn', (v) => values.includes(v as V), `must be one of ${values.join(', ')}`)],
});

/** Text, trimmed; at least `minLength` characters. */
export const text = (fallback: string, minLength = 1): EnvVariable<string> => ({
  transform: (raw) => trimmed(raw, fallback),
  rules: [
    rule(
      'minLength',
      (v) => typeof v === 'string' && v.length >= minLength,
      `must be at least ${minLength} characters`,
    ),
  ],
});

/** Text that may be unset (then undefined); when set, at least `minLength` characters. */
export const optionalText = (minLength = 0): EnvVariable<string | undefined> => ({
  transform: (raw) => raw,
  rules: [
    rule(
      'minLength',
      (v) => v === undefined || (typeof v === 'string' && v.length >= minLength),
      `must be at least ${minLength} characters`,
    ),
  ],
});

/** Text matching `pattern` (explained by `message`), at most `maxLength` characters. */
export const pattern = (
  fallback: string,
  re: RegExp,
  message: string,
  maxLength: number,
): EnvVariable<string> => ({
  transform: (raw) => trimmed(raw, fallback),
  rules: [
    rule('matches', (v) => typeof v === 'string' && re.test(v), message),
    rule('maxLength', (v) => (v as string).length <= maxLength, `must be at most ${maxLength} characters`),
  ],
});

const hasScheme = (schemes: string[], value: unknown) => {
  if (typeof value !== 'string') return false;
  try {
    return schemes.includes(new URL(value).protocol.replace(/:$/, ''));
  } catch {
    return false;
  }
};

const url = (schemes: string[], fallback: string): EnvVariable<string> => ({
  transform: (raw) => trimmed(raw, fallback),
  rules: [rule('isUrl', (v) => hasScheme(schemes, v), `must be a URL with scheme ${schemes.join(' or ')}`)],
});

export const optionalUrl = (schemes: string[]): EnvVariable<string | undefined> => ({
  transform: (raw) => trimmed(raw),
  rules: [
    rule(
      'isUrl',
      (v) => v === undefined || hasScheme(schemes, v),
      `must be a URL with scheme ${schemes.join(' or ')}`,
    ),
  ],
});

/** An e-mail address, or unset. */
export const optionalEmail = (): EnvVariable<string | undefined> => ({
  transform: (raw) => trimmed(raw),
  rules: [
    rule(
      'isEmail',
      (v) => v === undefined || (typeof v === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)),
      'must be an e-mail address',
    ),
  ],
});

const items = (v: string) =>
  v
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** A comma-separated list of trimmed, non-empty items (unset or empty: no items). */
export const list = (): EnvVariable<string[]> => ({
  transform: (raw) => items(raw ?? ''),
  rules: [rule('isList', (v) => Array.isArray(v), 'must be a comma-separated list')],
});

/**
 * A comma-separated list of whole numbers between `min` and `max`, `minItems` to `maxItems` of
 * them, never decreasing when `ascending`.
 */
export const intList = (
  fallback: string,
  { min, max, minItems = 1, maxItems = Infinity, ascending = false }: IntListOptions,
): EnvVariable<number[]> => ({
  transform: (raw) => {
    const value = (raw ?? fallback).replace(/\s/g, '');
    return /^\d+(,\d+)*$/.test(value) ? value.split(',').map(Number) : value;
  },
  rules: [
    rule('isIntList', (v) => Array.isArray(v), 'must be a comma-separated list of whole numbers'),
    rule(
      'range',
      (v) => (v as number[]).every((x) => x >= min && x <= max),
      `each value must be between ${min} and ${max}`,
    ),
    rule(
      'count',
      (v) => (v as number[]).length >= minItems && (v as number[]).length <= maxItems,
      `must have ${minItems} to ${maxItems} values`,
    ),
    ...(ascending
      ? [
          rule(
            'ascending',
            (v) => (v as number[]).every((x, i, xs) => i === 0 || x >= xs[i - 1]),
            'must not decrease',
          ),
        ]
      : []),
  ],
});
interface IntListOptions {
  min: number;
  max: number;
  minItems?: number;
  maxItems?: number;
  ascending?: boolean;
}

/**
 * Variables whose default only makes sense on a developer's machine (a loopback address, a key
 * made up per start): with NODE_ENV=production they must be set explicitly. Deployment manifests
 * are checked against this list (test/unit/deploy), so it is the one place that says what a
 * deployment has to provide.
 */
export function requiredInProduction<T>(variable: EnvVariable<T>): EnvVariable<T> {
  return { ...variable, productionRequired: true };
}

/** The variables of `shape` that production must set (see requiredInProduction). */
export function productionRequiredVariables(shape: EnvShape | EnvClass): string[] {
  return envClass(shapeOf(shape)).productionRequired.slice();
}

/** The app's HTTP port (API, /health, /metrics): one per app. */
export const port = <K extends string>(variable: K, fallback: number) =>
  ({ [variable]: { ...int(1, 65535, fallback), httpPort: true } }) as Record<K, EnvVariable<number>>;

/** The variable of `shape` that holds the app's HTTP port (for deployment checks). */
export function httpPortVariable(shape: EnvShape | EnvClass): string | undefined {
  return envClass(shapeOf(shape)).httpPort;
}

/**
 * A shape as a class: one property per variable, with class-transformer's @Expose and @Transform
 * and one class-validator constraint per rule. What the class knows about its variables (their
 * names, which production must set, the HTTP port) is static, for deployment checks.
 */
export interface EnvClass<S extends EnvShape = EnvShape> {
  new (): EnvValues<S>;
  readonly shape: S;
  readonly variables: readonly string[];
  readonly productionRequired: readonly string[];
  readonly httpPort: string | undefined;
}

const classes = new WeakMap<EnvShape, EnvClass>();

export function envClass<S extends EnvShape>(shape: S, name = 'Env'): EnvClass<S> {
  const known = classes.get(shape);
  if (known) return known as EnvClass<S>;
  const entries = Object.entries(shape);
  const Env = {
    [name]: class {
      static readonly shape = shape;
      static readonly variables = entries.map(([variable]) => variable);
      static readonly productionRequired = entries.filter(([, v]) => v.productionRequired).map(([k]) => k);
      static readonly httpPort = entries.find(([, v]) => v.httpPort)?.[0];
    },
  }[name];
  for (const [variable, spec] of entries) {
    Expose()(Env.prototype, variable);
    Transform(({ value }) => spec.transform(typeof value === 'string' ? value : undefined), {
      toClassOnly: true,
    })(Env.prototype, variable);
    for (const r of spec.rules)
      ValidateBy({ name: r.name, validator: { validate: r.test, defaultMessage: () => r.message } })(
        Env.prototype,
        variable,
      );
  }
  classes.set(shape, Env as unknown as EnvClass);
  return Env as unknown as EnvClass<S>;
}

const shapeOf = <S extends EnvShape>(of: S | EnvClass<S>): S => (typeof of === 'function' ? of.shape : of);

/**
 * Validates `env` against `shape` (or its class) and returns the typed values.
 * Throws a ConfigError naming every bad variable; nothing else is read from process.env later.
 */
export function loadEnv<S extends EnvShape>(
  shape: S | EnvClass<S>,
  env: Record<string, string | undefined> = process.env,
): EnvValues<S> {
  const Env = envClass(shapeOf(shape));
  // Empty strings mean "unset", as in most process managers; other variables are not ours.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([name, v]) => v !== undefined && v !== '' && Object.hasOwn(Env.shape, name)),
  );
  const config = plainToInstance(Env, cleaned, { exposeDefaultValues: false });
  const errors = validateSync(config, {
    stopAtFirstError: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false }, // a value may be a secret
  });
  const problems = errors.map((error) => ({
    variable: error.property,
    message: Object.values(error.constraints ?? {})[0] ?? 'is invalid',
  }));
  if (env.NODE_ENV === 'production') {
    for (const variable of Env.productionRequired) {
      if (cleaned[variable] === undefined && !problems.some((p) => p.variable === variable)) {
        problems.push({
          variable,
          message: 'must be set in production (the default is for local development)',
        });
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export const runtimeEnv = {
  NODE_ENV: oneOf(['development', 'test', 'production'], 'development'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
  HTTP_HOST: text('0.0.0.0'),
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
  AMQP_PREFIX: pattern('', /^[a-z0-9_.-]*$/, 'may only contain a-z, 0-9, ".", "_" and "-"', 64),
  AMQP_PREFETCH: int(1, 5000, 100),
  /** Quorum queue x-delivery-limit: deliveries of one message before the broker dead-letters it. */
  AMQP_DELIVERY_LIMIT: int(1, 1000, 5),
  /** Delay tiers for transient failures, in milliseconds, one per retry. */
  RETRY_DELAYS_MS: intList('1000,10000,60000,300000', { min: 1, max: 86_400_000, ascending: true }),
  /** Total attempts (first delivery included) before a transiently failing message is dead-lettered. */
  RETRY_MAX_ATTEMPTS: int(1, 100, 5),
};

export const outboxEnv = {
  OUTBOX_RELAY_ENABLED: bool(true),
  OUTBOX_BATCH_SIZE: int(1, 10_000, 500),
  OUTBOX_POLL_INTERVAL_MS: int(10, 60_000, 1000),
  OUTBOX_PUBLISH_TIMEOUT_MS: int(100, 120_000, 10_000),
};

export type RuntimeConfig = EnvValues<typeof runtimeEnv>;
export type DatabaseConfig = EnvValues<typeof databaseEnv>;
export type AmqpConfig = EnvValues<typeof amqpEnv>;
export type OutboxConfig = EnvValues<typeof outboxEnv>;

/** Where webhooks may go (gateway checks at registration, notification again at delivery). */
export const webhookEnv = {
  /**
   * Keys that encrypt webhook signing secrets at rest: comma-separated, each 32 random bytes in
   * base64 (`openssl rand -base64 32`). The first encrypts, all decrypt (rotation). Required in
   * production; development and tests fall back to a fixed development key.
   */
  WEBHOOK_ENCRYPTION_KEYS: requiredInProduction<Buffer[]>({
    transform: (raw) => items(raw ?? '').map((k) => Buffer.from(k, 'base64')),
    rules: [
      rule(
        'isKeyList',
        (keys) => Array.isArray(keys) && keys.every((k: Buffer) => k.length === 32),
        'each key must be 32 bytes, base64-encoded',
      ),
    ],
  }),
  /** Hosts or CIDRs allowed although private, loopback or link-local (comma-separated). */
  WEBHOOK_ALLOWED_HOSTS: list(),
};

/** The payment provider's payout API (the worker pays withdrawals out; the CLI reconciles). */
export const payoutProviderEnv = {
  /**
   * The payment provider's payout API (e.g. the simulator, http://127.0.0.1:4100). Unset: a
   * withdrawal only moves ledger entries, as before payouts existed.
   */
  PAYOUT_PROVIDER_URL: optionalUrl(['http', 'https']),
  /** Sent as `Authorization: Bearer …` (required in production when the URL is set). */
  PAYOUT_PROVIDER_API_KEY: optionalText(8),
  /** A call to the provider must be answered within this, or it counts as a timeout (retried). */
  PAYOUT_PROVIDER_TIMEOUT_MS: int(100, 120_000, 10_000),
};

/** Shared state for rate limits: Redis when REDIS_URL is set, else each process keeps its own. */
export const redisEnv = {
  REDIS_URL: optionalUrl(['redis', 'rediss']),
  /** Prepended to every key, so several deployments (or test runs) can share one Redis. */
  REDIS_KEY_PREFIX: pattern(
    'tally:',
    /^[A-Za-z0-9_.:-]*$/,
    'may only contain letters, digits, ".", "_", ":" and "-"',
    64,
  ),
  /** A Redis command slower than this fails, and the rate limit fails open. */
  REDIS_TIMEOUT_MS: int(5, 5_000, 100),
};

/**
 * Cache-aside of product reads and product list pages in Redis (docs/architecture.md, "Product
 * cache"). Used only with REDIS_URL; every app that writes products invalidates it whenever
 * REDIS_URL is set, whatever PRODUCT_CACHE says.
 */
export const productCacheEnv = {
  /** `on`: the gateway answers product reads and list pages from Redis when it can. */
  PRODUCT_CACHE: oneOf(['on', 'off'], 'on'),
  /** How long a cached product or page lives (±10 % jitter); a write drops it at once anyway. */
  PRODUCT_CACHE_TTL_SECONDS: int(1, 3_600, 60),
};

/**
 * A token bucket per API key and route class: refill rate per second (fractional allowed: 0.5 is
 * one request every two seconds) and burst size.
 */
export const rateLimitEnv = {
  ...redisEnv,
  RATE_LIMIT_ENABLED: bool(true),
  RATE_LIMIT_WRITES_PER_SECOND: positiveNumber(1_000_000, 100),
  RATE_LIMIT_WRITES_BURST: int(1, 1_000_000, 200),
  RATE_LIMIT_READS_PER_SECOND: positiveNumber(1_000_000, 100),
  RATE_LIMIT_READS_BURST: int(1, 1_000_000, 200),
  /** Requests to POST /v1/events (each carries up to 500 events). */
  RATE_LIMIT_EVENTS_PER_SECOND: positiveNumber(1_000_000, 50),
  RATE_LIMIT_EVENTS_BURST: int(1, 1_000_000, 100),
};

/**
 * Tenant cells (docs/scaling.md): a deployment that is one cell of several names itself and the
 * tenant → cell directory. Both or neither: unset, the deployment is the only cell and registers
 * nothing.
 */
/** A cell's name: lower-case letters, digits and "-", at most 32 characters. */
export const CELL_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** A cell's name, or unset (''). */
export const optionalCellName = (): EnvVariable<string> => ({
  transform: (raw) => trimmed(raw, ''),
  rules: [
    rule(
      'isCellName',
      (v) => v === '' || (typeof v === 'string' && CELL_NAME_PATTERN.test(v)),
      'must be a-z, 0-9 and "-", starting with a letter or digit, at most 32 characters',
    ),
  ],
});

export const cellEnv = {
  /** This deployment's cell. */
  CELL_NAME: optionalCellName(),
  /** The tenant → cell directory (PostgreSQL) every cell's admin registers tenants and API keys in. */
  CELL_DIRECTORY_URL: optionalUrl(['postgres', 'postgresql']),
};

/** The directory as its owner: when set, its tables are created (`npm run migrate`, the router). */
export const cellDirectoryMigrationEnv = {
  CELL_DIRECTORY_MIGRATION_URL: optionalUrl(['postgres', 'postgresql']),
};

/** The cell this deployment is, and its directory; null when cells are not configured. */
export function cellOf(config: EnvValues<typeof cellEnv>): { name: string; directoryUrl: string } | null {
  const name = config.CELL_NAME || undefined;
  const directoryUrl = config.CELL_DIRECTORY_URL;
  if (!name && !directoryUrl) return null;
  if (!name || !directoryUrl) {
    const missing = name ? 'CELL_DIRECTORY_URL' : 'CELL_NAME';
    throw new ConfigError([{ variable: missing, message: 'must be set with the other cell variable' }]);
  }
  return { name, directoryUrl };
}
