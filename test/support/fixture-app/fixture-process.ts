import { freePort, distPath, AppProcess } from '../app-process.js';
import { testSettings } from '../env.js';

export interface FixtureOptions {
  prefix: string;
  env?: Record<string, string>;
}

/** Starts the fixture app as a child process; resolves when it serves /health/ready. */
export async function startFixture(options: FixtureOptions): Promise<{ app: AppProcess; url: string }> {
  const port = await freePort();
  // The fixture creates its own scratch tables, so it connects as the schema owner.
  const { ownerUrl, amqpUrl } = testSettings();
  const app = AppProcess.node(distPath('test/support/fixture-app/main.js'), {
    FIXTURE_PORT: String(port),
    DATABASE_URL: ownerUrl,
    DATABASE_MIGRATE_ON_START: 'false',
    AMQP_URL: amqpUrl,
    AMQP_PREFIX: options.prefix,
    RETRY_DELAYS_MS: '200,600',
    RETRY_MAX_ATTEMPTS: '3',
    AMQP_DELIVERY_LIMIT: '2',
    AMQP_PREFETCH: '20',
    OUTBOX_POLL_INTERVAL_MS: '200',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const url = `http://127.0.0.1:${port}`;
  return { app, url };
}

export async function startFixtureReady(options: FixtureOptions): Promise<{ app: AppProcess; url: string }> {
  const started = await startFixture(options);
  await started.app.waitForHttp(`${started.url}/health/ready`);
  return started;
}
