import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { DataSource } from 'typeorm';
import { Topology, standardQueues } from '#messaging';
import {
  Api,
  BrokerProbe,
  Stack,
  TcpProxy,
  createTenant,
  openDataSource,
  tallyCli,
  testSettings,
  uniquePrefix,
  waitFor,
  waitFinal,
  type AppName,
} from '#test-support';
import {
  startProviderSimulator,
  type ProviderSimulator,
  type SimulatedPayout,
} from '../../tools/provider-simulator/src/simulator.js';
import { LoadGenerator, type Intent, type LoadOptions } from './load.js';

const run = promisify(execFile);

/** Every app, so every queue has its consumer and "drained" means drained. */
const APPS: AppName[] = ['gateway', 'transaction-worker', 'notification', 'admin'];
const ACCOUNTS = 8;
const FUNDING = 5_000;
/** Long enough that a restart of PostgreSQL does not exhaust a message's attempts. */
const RETRY_DELAYS_MS = '500,2000,5000';
const DRAIN_TIMEOUT_MS = 60_000;
const PROVIDER_WEBHOOK_SECRET = 'fault-suite-provider-webhook-secret';
/**
 * The worker's payout settings when a scenario gives it the provider: fast dispatch, short
 * timeouts and lease (a killed worker's payout comes back within seconds), attempts enough to
 * outlast a 30 s outage, a breaker that opens after 5 failures and tries again every 2 s.
 */
const PAYOUT_ENV: Record<string, string> = {
  PAYOUT_PROVIDER_TIMEOUT_MS: '1000',
  PAYOUT_LEASE_MS: '3000',
  PAYOUT_RETRY_BASE_MS: '100',
  PAYOUT_RETRY_MAX_MS: '1000',
  PAYOUT_MAX_ATTEMPTS: '50',
  PAYOUT_OUTCOME_AFTER_MS: '2000',
  PAYOUT_DISPATCH_INTERVAL_MS: '50',
  PAYOUT_CONCURRENCY: '16',
  PAYOUT_BREAKER_FAILURES: '5',
  PAYOUT_BREAKER_COOLDOWN_MS: '2000',
};

export interface ScenarioResult {
  scenario: string;
  accepted: number;
  succeeded: number;
  failed: number;
  lost: number;
  duplicated: number;
  /** Clean 503s the clients met and retried. */
  refused: number;
  /** From the fault cleared to everything drained (NaN: never). */
  recoveryMs: number;
}

export interface Scenario {
  name: string;
  load?: Partial<LoadOptions>;
  /** Accounts the load spreads over (8): fewer make them hot. */
  accounts?: number;
  /** Before the load: restart apps with a fault armed or another configuration. */
  setup?: (ctx: ScenarioContext) => Promise<void>;
  /**
   * Injects the fault while the load runs, clears it, and returns when it was cleared (ms since
   * the epoch): the start of the recovery time.
   */
  inject: (ctx: ScenarioContext) => Promise<number>;
  /**
   * The worker pays withdrawals out through the provider simulator (it runs with
   * `suite.payoutEnv()` before `setup`): each accepted withdrawal must then be paid by the provider
   * exactly as many times as Tally recorded it paid — once if it succeeded, never if it failed.
   */
  payouts?: boolean;
  /** Message ids that must end in the dead-letter store, with their error codes. */
  deadLetters?: () => Map<string, string>;
  /** Further assertions once everything drained: evidence that the fault hit where it should. */
  check?: (ctx: ScenarioContext) => Promise<void>;
}

export interface ScenarioContext {
  suite: FaultStack;
  stack: Stack;
  db: DataSource;
  load: LoadGenerator;
  tenantId: string;
}

/**
 * The four apps, shared by every scenario (each has its own tenant): a scenario restarts the apps
 * it needs differently, and the next one starts from the standard set again. The gateway reaches
 * the broker through a TcpProxy, so its link can be cut.
 */
export class FaultStack {
  readonly results: ScenarioResult[] = [];
  readonly proxy = new TcpProxy(Number(new URL(testSettings().amqpUrl).port || 5672));
  /** A way to PostgreSQL that a scenario can stall: apps restarted with `databaseViaProxy()` use it. */
  readonly pgProxy = new TcpProxy(Number(new URL(testSettings().databaseUrl).port || 5432));
  /** The payment provider, its webhooks signed for the gateway; only workers given `payoutEnv()` call it. */
  provider!: ProviderSimulator;
  /** The workers' way to the provider: cut, it refuses connections as a provider that is down. */
  providerProxy!: TcpProxy;
  stack!: Stack;
  db!: DataSource;
  /** Each app's configuration on top of the standard one, as it runs now (JSON). */
  private readonly envs = new Map<AppName, string>();
  private gatewayAmqpUrl = '';

  async start(): Promise<void> {
    await this.proxy.start();
    this.gatewayAmqpUrl = this.proxy.via(testSettings().amqpUrl);
    await this.pgProxy.start();
    this.provider = await startProviderSimulator({ webhookSecret: PROVIDER_WEBHOOK_SECRET });
    this.providerProxy = new TcpProxy(Number(new URL(this.provider.url).port));
    await this.providerProxy.start();
    this.stack = new Stack(uniquePrefix('faults'), { RETRY_DELAYS_MS });
    this.db = await openDataSource(2);
    for (const name of APPS) await this.restart(name);
  }

  async stop(): Promise<void> {
    await this.stack?.stop();
    await this.proxy.close();
    await this.pgProxy.close();
    await this.providerProxy?.close();
    await this.provider?.close();
    await this.db?.destroy().catch(() => undefined);
  }

  /** (Re)starts an app, with `env` on top of the standard configuration; waits until it is ready. */
  async restart(name: AppName, env: Record<string, string> = {}): Promise<void> {
    await this.stack.apps.get(name)?.process.stop();
    // The gateway takes the provider's webhooks (a route nobody calls unless a worker has the provider).
    const standard: Record<string, string> =
      name === 'gateway'
        ? { AMQP_URL: this.gatewayAmqpUrl, PAYOUT_PROVIDER_WEBHOOK_SECRET: PROVIDER_WEBHOOK_SECRET }
        : {};
    await this.stack.startApp(name, { ...standard, ...env });
    this.envs.set(name, JSON.stringify(env));
  }

  /** The apps' database URL, through the stallable proxy. */
  databaseViaProxy(): string {
    return this.pgProxy.via(testSettings().databaseUrl);
  }

  /**
   * The worker's configuration that pays withdrawals out through the provider (through its
   * proxy), with `env` on top. Only the payout scenarios use it: elsewhere withdrawals stay
   * ledger-only.
   */
  payoutEnv(env: Record<string, string> = {}): Record<string, string> {
    return { PAYOUT_PROVIDER_URL: `http://127.0.0.1:${this.providerProxy.port}`, ...PAYOUT_ENV, ...env };
  }

  /**
   * Back to the standard apps (or those `wanted`), all running: whatever the last scenario did or
   * failed to undo. An app already running as wanted is left alone.
   */
  async normalize(wanted: Partial<Record<AppName, Record<string, string>>> = {}): Promise<void> {
    this.proxy.restore();
    this.pgProxy.restore();
    this.providerProxy.restore();
    this.provider.setBehaviour({ errorRate: 0, webhooks: true });
    for (const name of APPS) {
      const env = wanted[name] ?? {};
      if (this.envs.get(name) !== JSON.stringify(env) || this.stack.apps.get(name)?.process.exit)
        await this.restart(name, env);
    }
  }

  /**
   * One fault under live load: a tenant with funded accounts, the load generator running through
   * the fault and a second after it, then the wait until everything has drained and the check of
   * every invariant. The result goes into the table, then is asserted.
   */
  async run(scenario: Scenario): Promise<ScenarioResult> {
    const started = Date.now();
    const phase = (what: string) =>
      console.log(`  [${scenario.name}] ${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
    const { stack, db } = this;
    await this.normalize(scenario.payouts ? { 'transaction-worker': this.payoutEnv() } : {});
    const deadBefore = await deadLetterIds(db, stack.prefix);
    const { tenantId, apiKey } = await createTenant(scenario.name);
    const api = new Api(stack.url('gateway'), apiKey);
    const accounts: string[] = [];
    for (let i = 0; i < (scenario.accounts ?? ACCOUNTS); i++) accounts.push(await api.account());
    const load = new LoadGenerator(() => stack.url('gateway'), apiKey, accounts, tenantId, scenario.load);
    const ctx: ScenarioContext = { suite: this, stack, db, load, tenantId };
    try {
      await scenario.setup?.(ctx);
      // Outcomes reach the gateway as it now runs (a scenario may have restarted it).
      this.provider.setWebhookUrl(`${stack.url('gateway')}/v1/provider-events`);
      const funding = await Promise.all(
        accounts.map((to) => load.submit({ type: 'deposit', to, amount: FUNDING })),
      );
      for (const id of funding) await waitFinal(new Api(stack.url('gateway'), apiKey), id!, 60_000);
      phase('accounts funded; load, then the fault');
      load.start();
      await sleep(1_500);
      const cleared = await scenario.inject(ctx);
      phase('fault cleared');
      await sleep(1_000);
      await load.stop();
      // Not drained in time: count what was lost anyway, so the failure says what broke.
      const drained = await waitDrained(ctx).catch((error: Error) => phase(error.message));
      phase('drained');
      const result = await verify(ctx, scenario, drained ? drained - cleared : Number.NaN, deadBefore);
      assert.ok(drained, 'everything drained');
      await scenario.check?.(ctx);
      phase('verified');
      return result;
    } finally {
      await load.stop();
    }
  }
}

async function deadLetterIds(db: DataSource, prefix: string): Promise<Set<string>> {
  const rows: { id: string }[] = await db.query(`SELECT id FROM dead_letters WHERE dlq LIKE $1 || '%'`, [
    prefix,
  ]);
  return new Set(rows.map((r) => r.id));
}

/** Names of this stack's queues: each consuming queue, its delay tiers and DLQ, the unroutable one. */
function queueNames(stack: Stack): string[] {
  return new Topology({
    prefix: stack.prefix,
    retryDelaysMs: RETRY_DELAYS_MS.split(',').map(Number),
    deliveryLimit: 1,
    queues: standardQueues,
  }).allQueueNames();
}

/** Waits until no accepted transaction is open, the outbox is empty and every queue is empty. */
async function waitDrained({ stack, db, tenantId }: ScenarioContext): Promise<number> {
  const queues = queueNames(stack);
  // Opened after the fault: a broker connection open while RabbitMQ stops would be lost.
  const probe = await BrokerProbe.open();
  // An app that dies now will not drain anything: say so at once rather than at the timeout.
  let died: Error | undefined;
  let watching = true;
  for (const [name, app] of stack.apps) {
    void app.process.exited.then((exit) => {
      if (watching)
        died ??= new Error(`${name} exited (${exit.signal ?? `code ${exit.code}`}) while draining`);
    });
  }
  await waitFor(
    'everything to drain',
    async () => {
      if (died) return true;
      const [{ open }] = await db.query(
        `SELECT count(*)::int AS open FROM transactions WHERE tenant_id = $1 AND status NOT IN ('succeeded', 'failed')`,
        [tenantId],
      );
      if (open > 0) return false;
      const [{ unpublished }] = await db.query(
        `SELECT count(*)::int AS unpublished FROM outbox WHERE published_at IS NULL`,
      );
      if (unpublished > 0) return false;
      for (const q of queues) if ((await probe.depth(q)) > 0) return false;
      return true;
    },
    DRAIN_TIMEOUT_MS,
    100,
  ).finally(() => {
    watching = false;
    return probe.close();
  });
  if (died) throw died;
  const drainedAt = Date.now();
  // Messages a consumer holds unacked are not in the depth above; the broker's own count has them.
  await waitFor(
    'no message left unacknowledged',
    async () => (await brokerCounts(stack.prefix)).every((q) => q.messages === 0),
    20_000,
    500,
  );
  return drainedAt;
}

async function brokerCounts(prefix: string): Promise<{ name: string; messages: number }[]> {
  const { stdout } = await run(
    'rabbitmqctl',
    ['list_queues', 'name', 'messages', '--quiet', '--no-table-headers'],
    { timeout: 30_000 },
  );
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([name]) => name?.startsWith(prefix))
    .map(([name, messages]) => ({ name, messages: Number(messages) }));
}

interface Row {
  id: string;
  type: string;
  status: string;
  amount: string;
  source: string | null;
  destination: string | null;
  failure_code: string | null;
  entries: number;
  commands: number;
  unpublished_commands: number;
  outcomes: number;
}

/** What the fault suite's checks found for one tenant's transactions. */
export interface TenantCheck {
  succeeded: number;
  failed: number;
  lost: Set<string>;
  duplicated: Set<string>;
  /** Anything else wrong: a transaction not as asked, a failure other than insufficient funds, a balance. */
  problems: string[];
}

/**
 * The fault suite's checks of one tenant's transactions in `db` against what its clients saw
 * accepted (`accepted`, by transaction id): each exactly once in the outbox and published, one
 * outcome, two ledger entries when it succeeded and none when it failed, nothing nobody asked for,
 * and every customer account's balance the sum of what succeeded, nothing held. `paid` (the
 * provider's payouts per transaction) also checks each succeeded withdrawal was paid exactly once.
 * Set-wise: the outbox holds other tenants' rows too.
 */
export async function checkTenant(
  db: DataSource,
  accepted: ReadonlyMap<string, Intent>,
  tenantId: string,
  paid?: Map<string, number>,
): Promise<TenantCheck> {
  const rows: Row[] = await db.query(
    `WITH commands AS (
       SELECT payload->>'transactionId' AS id, count(*)::int AS n,
              (count(*) FILTER (WHERE published_at IS NULL))::int AS unpublished
         FROM outbox WHERE message_type = 'transaction.requested' AND payload->>'tenantId' = $1 GROUP BY 1
     ), outcomes AS (
       SELECT payload->'data'->>'id' AS id, count(*)::int AS n
         FROM outbox WHERE message_type IN ('transaction.succeeded', 'transaction.failed')
          AND payload->>'tenantId' = $1 GROUP BY 1
     ), entries AS (
       SELECT e.transaction_id AS id, count(*)::int AS n
         FROM ledger_entries e JOIN transactions t ON t.id = e.transaction_id WHERE t.tenant_id = $1 GROUP BY 1
     )
     SELECT t.id, t.type, t.status, t.amount::text AS amount, t.source_account_id AS source,
            t.destination_account_id AS destination, t.failure_code,
            coalesce(e.n, 0) AS entries, coalesce(c.n, 0) AS commands,
            coalesce(c.unpublished, 0) AS unpublished_commands, coalesce(o.n, 0) AS outcomes
       FROM transactions t
       LEFT JOIN entries e ON e.id = t.id
       LEFT JOIN commands c ON c.id = t.id
       LEFT JOIN outcomes o ON o.id = t.id
      WHERE t.tenant_id = $1`,
    [tenantId],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const problems: string[] = [];
  const lost = new Set<string>();
  const duplicated = new Set<string>();
  const balances = new Map<string, bigint>();
  const credit = (account: string, amount: bigint) =>
    balances.set(account, (balances.get(account) ?? 0n) + amount);
  let succeeded = 0;
  let failed = 0;

  for (const [id, intent] of accepted) {
    const row = byId.get(id);
    if (!row) {
      lost.add(id);
      continue;
    }
    if (
      row.type !== intent.type ||
      BigInt(row.amount) !== BigInt(intent.amount) ||
      (row.destination ?? undefined) !== intent.to ||
      (row.source ?? undefined) !== intent.from
    ) {
      problems.push(`${id} is not what was asked for`);
    }
    if (row.commands === 0 || row.unpublished_commands > 0) lost.add(id);
    if (row.commands > 1 || row.outcomes > 1) duplicated.add(id);
    if (row.status === 'succeeded') {
      succeeded++;
      if (row.entries > 2) duplicated.add(id);
      if (row.entries < 2 || row.outcomes === 0) lost.add(id);
      if (intent.from) credit(intent.from, -BigInt(intent.amount));
      if (intent.to) credit(intent.to, BigInt(intent.amount));
      if (paid && intent.type === 'withdrawal') {
        // Recorded paid out: the provider paid it exactly once, or money went twice (or never).
        const times = paid.get(id) ?? 0;
        if (times > 1) duplicated.add(id);
        if (times === 0) lost.add(id);
      }
    } else if (row.status === 'failed') {
      failed++;
      if (row.entries > 0) duplicated.add(id);
      // Failed here but paid there: the customer has the money twice.
      if ((paid?.get(id) ?? 0) > 0) duplicated.add(id);
      if (row.outcomes === 0) lost.add(id);
      if (row.failure_code !== 'insufficient_funds') problems.push(`${id} failed: ${row.failure_code}`);
    } else {
      lost.add(id); // still open after the drain
    }
  }
  // A transaction nobody saw accepted: a request written twice, or half-written.
  for (const row of rows) if (!accepted.has(row.id)) duplicated.add(row.id);

  // Balances are the sum of what was accepted and succeeded, by the clients' own record.
  const accounts: { id: string; posted: string; held: string }[] = await db.query(
    `SELECT id, posted::text AS posted, held::text AS held FROM accounts WHERE tenant_id = $1 AND kind = 'customer'`,
    [tenantId],
  );
  if (accounts.length === 0) problems.push(`tenant ${tenantId} has no customer account`);
  for (const account of accounts) {
    const expected = balances.get(account.id) ?? 0n;
    if (BigInt(account.posted) !== expected)
      problems.push(`balance of ${account.id}: ${account.posted}, expected ${expected}`);
    if (BigInt(account.held) !== 0n) problems.push(`${account.id} holds ${account.held}`);
  }
  return { succeeded, failed, lost, duplicated, problems };
}

/** Counts lost and duplicated transactions, then asserts every invariant. */
async function verify(
  ctx: ScenarioContext,
  scenario: Scenario,
  recoveryMs: number,
  deadBefore: Set<string>,
): Promise<ScenarioResult> {
  const { db, load, tenantId, stack, suite } = ctx;
  // The provider's own count of what it paid, per transaction (its idempotency key and reference).
  const paid = scenario.payouts ? await paidByProvider(suite.provider) : undefined;
  const { succeeded, failed, lost, duplicated, problems } = await checkTenant(
    db,
    load.accepted,
    tenantId,
    paid,
  );

  const result: ScenarioResult = {
    scenario: scenario.name,
    accepted: load.accepted.size,
    succeeded,
    failed,
    lost: lost.size,
    duplicated: duplicated.size,
    refused: load.stats.unavailable,
    recoveryMs,
  };
  suite.results.push(result);

  assert.equal(result.lost, 0, `lost: ${[...lost].slice(0, 10).join(', ')}`);
  assert.equal(result.duplicated, 0, `duplicated: ${[...duplicated].slice(0, 10).join(', ')}`);
  assert.deepEqual(problems, []);
  assert.deepEqual(load.stats.unexpected, [], 'every answer was a 202, a clean 503 or a 409 in flight');
  assert.equal(load.stats.timeouts, 0, 'no request hung');

  const verified = await tallyCli(['ledger:verify']);
  assert.equal(verified.code, 0, `ledger:verify: ${verified.stdout} ${verified.stderr}`);

  const [{ unpublished }] = await db.query(
    `SELECT count(*)::int AS unpublished FROM outbox WHERE published_at IS NULL`,
  );
  assert.equal(unpublished, 0, 'every outbox row published');

  // Every queue drained; whatever was dead-lettered is exactly what the scenario expected, stored.
  const leftovers = (await brokerCounts(stack.prefix)).filter((q) => q.messages > 0);
  assert.deepEqual(leftovers, [], 'every queue drained');
  const expected = scenario.deadLetters?.() ?? new Map<string, string>();
  const dead = await waitFor(
    'the expected dead letters to be stored',
    async () => {
      const stored: { id: string; message_id: string; error_code: string }[] = await db.query(
        `SELECT id, message_id, error_code FROM dead_letters WHERE dlq LIKE $1 || '%'`,
        [stack.prefix],
      );
      const fresh = stored.filter((d) => !deadBefore.has(d.id));
      return fresh.length >= expected.size ? fresh : false;
    },
    10_000,
  );
  assert.deepEqual(
    new Map(dead.map((d) => [d.message_id, d.error_code])),
    expected,
    'dead letters are exactly the expected ones',
  );
  return result;
}

/** How many payouts the provider made per transaction, by its own report of every payout. */
async function paidByProvider(provider: ProviderSimulator): Promise<Map<string, number>> {
  const res = await fetch(`${provider.url}/payouts?since=1970-01-01T00:00:00.000Z`);
  assert.equal(res.status, 200, 'the provider reports its payouts');
  const { data } = (await res.json()) as { data: SimulatedPayout[] };
  const paid = new Map<string, number>();
  for (const payout of data) {
    // Keyed by both: a second payout under another key for the same transaction counts too.
    const ids = new Set([payout.idempotencyKey, payout.reference ?? payout.idempotencyKey]);
    for (const id of ids) paid.set(id, (paid.get(id) ?? 0) + 1);
  }
  return paid;
}

/** Waits for an app of the stack to die at its fault point. */
export async function diedAtFaultPoint(stack: Stack, app: AppName, timeoutMs = 30_000): Promise<void> {
  const exit = await waitFor(`${app} to reach its fault point`, () => stack.process(app).exit, timeoutMs);
  assert.equal(exit.signal, 'SIGKILL', `${app} died at its fault point`);
}

export function formatTable(rows: ScenarioResult[]): string {
  const header = [
    'scenario',
    'accepted',
    'succeeded',
    'failed',
    'lost',
    'duplicated',
    '503s retried',
    'recovery',
  ];
  const body = rows.map((r) => [
    r.scenario,
    String(r.accepted),
    String(r.succeeded),
    String(r.failed),
    String(r.lost),
    String(r.duplicated),
    String(r.refused),
    Number.isNaN(r.recoveryMs) ? 'never' : `${(r.recoveryMs / 1000).toFixed(1)} s`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : '-'.repeat(w - 1) + ':')).join(' | ')} |`,
    ...body.map(line),
  ].join('\n');
}
