import type { AddressInfo } from 'node:net';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHttpApp, listenHttpApp, type HttpAppOptions } from '#http';
import { verifyLedger } from '#persistence';
import { loadAdminConfig } from '../../apps/admin/src/config.js';
import { adminHttpApp } from '../../apps/admin/src/http-app.js';
import { insertTenant } from '../../apps/admin/src/tenants/insert-tenant.js';
import { loadGatewayConfig } from '../../apps/gateway/src/config.js';
import { gatewayHttpApp } from '../../apps/gateway/src/http-app.js';
import { loadNotificationConfig } from '../../apps/notification/src/config.js';
import { notificationHttpApp } from '../../apps/notification/src/http-app.js';
import { loadWorkerConfig } from '../../apps/transaction-worker/src/config.js';
import { workerHttpApp } from '../../apps/transaction-worker/src/http-app.js';
import { openDataSource, uniquePrefix } from './env.js';
import { appTestEnv, cleanupBroker, type AppName } from './stack.js';

type Env = Record<string, string | undefined>;

/** Each app's HTTP app, from its configuration read out of `env`: what its main.ts starts. */
const HTTP_APPS: Record<AppName, (env: Env) => HttpAppOptions> = {
  gateway: (env) => gatewayHttpApp(loadGatewayConfig(env)),
  'transaction-worker': (env) => workerHttpApp(loadWorkerConfig(env)),
  notification: (env) => notificationHttpApp(loadNotificationConfig(env)),
  admin: (env) => adminHttpApp(loadAdminConfig(env)),
};

/**
 * One app inside the test process: its Nest module compiled by @nestjs/testing and made into the
 * app its main.ts makes (same adapter, parsers, hooks, filters, consumers), listening on a free
 * port of 127.0.0.1. Real PostgreSQL and RabbitMQ; nothing mocked.
 */
export async function startInProcess(options: HttpAppOptions): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [options.module] }).compile();
  const app = await createHttpApp(options, async (adapter, appOptions) =>
    moduleRef.createNestApplication<NestFastifyApplication>(adapter, appOptions),
  );
  await listenHttpApp(app, 0, '127.0.0.1');
  return app;
}

/**
 * The stack this test file has running, if any (Jest gives each file its own copy of this module).
 * A second one at the same time is refused: see {@link InProcessStack.start}.
 */
let running: InProcessStack | undefined;

/**
 * The apps of a test file, in-process, sharing the run's database and a broker prefix of their
 * own (as `Stack` does with processes). Their logs are off unless TEST_APP_OUTPUT is set.
 */
export class InProcessStack {
  readonly apps = new Map<AppName, NestFastifyApplication>();
  /** Further instances of an app (a second worker), stopped with the stack. */
  readonly extras: NestFastifyApplication[] = [];

  constructor(
    readonly prefix: string,
    private readonly env: Record<string, string>,
  ) {}

  /**
   * Starts `names` with a prefix of their own. Refused while another stack of this file runs: the
   * two would share the run's database, and an outbox relay publishes any unpublished row to its
   * own stack's prefix, where the other stack's apps never read it (a command taken that way
   * stays pending, and the tests after it time out). A second instance of an app is
   * {@link startExtra}: same prefix, stopped with the stack.
   */
  static async start(
    tag: string,
    names: AppName[],
    env: Record<string, string> = {},
  ): Promise<InProcessStack> {
    if (running) {
      throw new Error(
        `InProcessStack.start('${tag}'): the stack ${running.prefix} is still running, and its outbox ` +
          `relay and this one's would take each other's rows; use stack.startExtra() for a second app, ` +
          `or stop the first stack before starting another`,
      );
    }
    const stack = new InProcessStack(uniquePrefix(tag), env);
    running = stack;
    try {
      for (const name of names) await stack.startApp(name);
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  async startApp(name: AppName, env: Record<string, string> = {}): Promise<void> {
    this.apps.set(name, await this.boot(name, env));
  }

  /** One more instance of `name` next to the first; answers its URL. */
  async startExtra(name: AppName, env: Record<string, string> = {}): Promise<{ url: string }> {
    const app = await this.boot(name, env);
    this.extras.push(app);
    return { url: urlOf(app) };
  }

  private boot(name: AppName, env: Record<string, string>): Promise<NestFastifyApplication> {
    return startInProcess(
      HTTP_APPS[name]({
        ...process.env,
        ...appTestEnv(this.prefix),
        LOG_LEVEL: process.env.TEST_APP_OUTPUT ? 'info' : 'silent',
        ...this.env,
        ...env,
      }),
    );
  }

  app(name: AppName): NestFastifyApplication {
    return this.apps.get(name)!;
  }

  /** Where `name` listens: for supertest (request(url)), fetch or a raw socket. */
  url(name: AppName): string {
    return urlOf(this.app(name));
  }

  /** Closes every app (consumers, relays, connections), then removes this stack's broker objects. */
  async stop(): Promise<void> {
    try {
      await Promise.all([...this.apps.values(), ...this.extras].map((app) => app.close()));
      await cleanupBroker(this.prefix);
    } finally {
      if (running === this) running = undefined;
    }
  }
}

function urlOf(app: NestFastifyApplication): string {
  const { port } = app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** A tenant and its API key, written straight to the run's database (as `tally tenants:create` does). */
export async function newTenant(
  name = 'Test tenant',
): Promise<{ tenantId: string; keyId: string; apiKey: string }> {
  const db = await openDataSource(1);
  try {
    return await db.transaction((m) => insertTenant(m, name));
  } finally {
    await db.destroy();
  }
}

/** `tally ledger:verify` in-process: the ledger's invariants over the whole run's database. */
export async function verifiedLedger(): Promise<{ ok: boolean; report: string }> {
  const db = await openDataSource(1);
  try {
    const report = await verifyLedger(db);
    return { ok: report.ok, report: JSON.stringify(report.checks.filter((c) => c.violations > 0)) };
  } finally {
    await db.destroy();
  }
}
