import { isIP } from 'node:net';
import { ORDER_RESERVATION_TTL_SECONDS } from '#domain';
import {
  amqpEnv,
  bool,
  databaseEnv,
  envClass,
  int,
  list,
  loadEnv,
  oneOf,
  optionalText,
  outboxEnv,
  port,
  productCacheEnv,
  rateLimitEnv,
  positiveNumber,
  refine,
  requiredInProduction,
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
  ...productCacheEnv,
  ...port('GATEWAY_PORT', 3000),
  /** How long Idempotency-Keys are remembered; docs/api.md promises at least 24 hours. */
  IDEMPOTENCY_RETENTION_HOURS: int(24, 24 * 90, 24),
  /** Group commit of accepts: most requests written by one statement and commit… */
  ACCEPT_BATCH_MAX: int(1, 1000, 64),
  /** …and such statements running at once (each holds a database connection). */
  ACCEPT_BATCHES_IN_FLIGHT: int(1, 50, 1),
  /** Seconds an order may stay `reserved` before the worker's sweep cancels it (ORDER_RESERVATION_TTL). */
  ORDER_RESERVATION_TTL: int(
    ORDER_RESERVATION_TTL_SECONDS.min,
    ORDER_RESERVATION_TTL_SECONDS.max,
    ORDER_RESERVATION_TTL_SECONDS.default,
  ),
  /**
   * Orders placed at once by this gateway (each holds a database connection while it waits on its
   * products' and wallet's row locks); the rest queue in memory, so a burst of orders on hot rows
   * cannot take every connection from accepts. 0: half of DATABASE_POOL_MAX. Lower is not
   * better: the queue is first come, first served, so orders stuck on a wallet a usage batch
   * holds delay the orders behind them (docs/performance.md, "Open-loop load").
   */
  ORDER_PLACEMENT_CONCURRENCY: int(0, 100, 0),
  /** Longest wait for a place at that gate; past it the order is answered 503 (retry). */
  ORDER_PLACEMENT_MAX_WAIT_MS: int(100, 120_000, 10_000),
  /**
   * How an order's stock is reserved without overselling (docs/architecture.md, "Inventory"):
   * row locks in Postgres, a Redis lock per product (REDIS_URL; unreachable ⇒ row locks), or
   * version-compared writes retried INVENTORY_OPTIMISTIC_ATTEMPTS times.
   */
  INVENTORY_LOCKING: oneOf(['pessimistic', 'distributed', 'optimistic'], 'pessimistic'),
  /** distributed: a holder's Redis lock expires after this (longer than an order's transaction). */
  INVENTORY_LOCK_TTL_MS: int(100, 60_000, 5_000),
  /** distributed: how long an order waits for a product's lock before 409 inventory_contention. */
  INVENTORY_LOCK_WAIT_MS: int(10, 60_000, 10_000),
  /** optimistic: attempts of an order whose products' versions keep moving, then 409 inventory_contention. */
  INVENTORY_OPTIMISTIC_ATTEMPTS: int(1, 50, 5),
  /**
   * Signs storefronts' customer access tokens (HS256, at least 32 characters; the same on every
   * replica). Unset: a random key per start (development only; production refuses to start).
   */
  CUSTOMER_TOKEN_SECRET: requiredInProduction(optionalText(32)),
  /**
   * How long a customer session lasts from its creation, refreshes included (default 30 days):
   * its refresh tokens stop working then, and its access tokens never outlive it.
   */
  CUSTOMER_SESSION_TTL_SECONDS: int(300, 365 * 86_400, 30 * 86_400),
  /** Requests with customer access tokens: one bucket per account (all its sessions together). */
  RATE_LIMIT_CUSTOMER_PER_SECOND: positiveNumber(1_000_000, 5),
  RATE_LIMIT_CUSTOMER_BURST: int(1, 1_000_000, 50),
  /** POST /v1/customer-sessions/refresh (no credentials): one bucket per client address. */
  RATE_LIMIT_REFRESH_PER_MINUTE: int(1, 1_000_000, 60),
  /** Swagger UI at /docs and the OpenAPI document at /docs-json. */
  DOCS_ENABLED: bool(true),
  /**
   * The DNS servers that resolve webhook hosts when an endpoint is registered (`ip` or `ip:port`,
   * comma-separated); unset, the system's. Tests point it at a server of their own.
   */
  WEBHOOK_DNS_SERVERS: refine(
    list(),
    (servers) => servers.every(isDnsServer),
    'each must be an IP address, optionally with a port (IPv6 in brackets then)',
  ),
  /** A webhook host that has not resolved within this is refused (422 webhook_url_refused). */
  WEBHOOK_DNS_TIMEOUT_MS: int(100, 30_000, 5_000),
  /**
   * The secret the payment provider signs its webhooks with (POST /v1/provider-events). Unset:
   * every provider event is refused (401).
   */
  PAYOUT_PROVIDER_WEBHOOK_SECRET: optionalText(16),
  /** How far a provider event's signature timestamp may be from now (older ones are replays). */
  PROVIDER_EVENTS_TOLERANCE_SECONDS: int(10, 3600, 300),
};

/** A server as dns.setServers takes it: `1.2.3.4`, `1.2.3.4:53`, `::1` or `[::1]:53`. */
function isDnsServer(entry: string): boolean {
  const withPort = /^\[(.+)\]:(\d{1,5})$/.exec(entry) ?? /^([^:]+):(\d{1,5})$/.exec(entry);
  const [address, port] = withPort ? [withPort[1], Number(withPort[2])] : [entry, 53];
  return isIP(address) !== 0 && port >= 1 && port <= 65_535;
}
/** The gateway's configuration as a class-validator class (its static lists serve deploy checks). */
export const GatewayEnv = envClass(gatewayEnv, 'GatewayEnv');
export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export const loadGatewayConfig = (env: Record<string, string | undefined> = process.env) =>
  loadEnv(GatewayEnv, env);
