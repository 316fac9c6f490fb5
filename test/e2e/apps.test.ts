import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import pg from 'pg';
import { dropDatabase, migrations } from '#persistence';
import {
  AppProcess,
  cleanupBroker,
  distPath,
  freePort,
  separateDatabase,
  testSettings,
  uniquePrefix,
  waitFor,
} from '#test-support';

const APPS = ['gateway', 'transaction-worker', 'notification', 'admin'] as const;
const PORT_VARS = {
  gateway: 'GATEWAY_PORT',
  'transaction-worker': 'WORKER_PORT',
  notification: 'NOTIFICATION_PORT',
  admin: 'ADMIN_PORT',
} as const;

describe('the four apps, started together with one command', () => {
  const ports = {} as Record<(typeof APPS)[number], number>;
  const prefix = uniquePrefix('apps');
  let all: AppProcess;

  beforeAll(async () => {
    const env: Record<string, string> = {
      DATABASE_URL: testSettings().databaseUrl,
      AMQP_PREFIX: prefix,
      LOG_LEVEL: 'info',
    };
    for (const app of APPS) {
      ports[app] = await freePort();
      env[PORT_VARS[app]] = String(ports[app]);
    }
    all = new AppProcess('npm', ['run', '--silent', 'start:all'], env, { detached: true });
    // Ready and connected: the gateway and admin are ready before the broker is (it only degrades them).
    for (const app of APPS)
      await waitFor(
        `${app} to be ready with the broker connected`,
        async () => {
          const res = await fetch(`http://127.0.0.1:${ports[app]}/health/ready`);
          return res.status === 200 && ((await res.json()) as { status: string }).status === 'ok';
        },
        60_000,
        100,
      );
  });

  afterAll(async () => {
    const { code, signal } = await all.stop(20_000);
    assert.ok(code === 0 || signal === 'SIGTERM', `stopped cleanly (code ${code}, signal ${signal})`);
    await cleanupBroker(prefix);
  });

  for (const app of APPS) {
    it(`${app}: live, ready (database and broker), and exposes metrics`, async () => {
      const base = `http://127.0.0.1:${ports[app]}`;
      const live = await fetch(`${base}/health/live`);
      assert.equal(live.status, 200);
      const ready = await fetch(`${base}/health/ready`);
      assert.equal(ready.status, 200);
      const body = (await ready.json()) as { status: string; info: Record<string, { status: string }> };
      assert.equal(body.info.database.status, 'up');
      assert.equal(body.info.broker.status, 'up');
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
      const text = await metrics.text();
      assert.match(text, new RegExp(`process_cpu_user_seconds_total\\{app="${app}"\\}`));
      assert.match(text, /tally_http_request_duration_seconds_bucket\{[^}]*route="\/health\/ready"/);
      assert.match(text, /tally_messages_consumed_total/);
      assert.match(text, /tally_outbox_backlog/);
    });
  }

  it('prefixes each line of the combined log with the app it came from', () => {
    for (const name of ['gateway', 'worker', 'notify', 'admin']) {
      assert.ok(
        all.stdout.some(
          (l) => l.startsWith(`[${name}]`) && l.includes('"msg":"Nest application successfully started"'),
        ),
        `a start-up line prefixed [${name}]`,
      );
    }
  });
});

describe('configuration is validated at start-up', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['a port that is not a number', { GATEWAY_PORT: 'eighty' }, /GATEWAY_PORT: must be a whole number/],
    [
      'a database URL of the wrong kind',
      { DATABASE_URL: 'mysql://localhost/tally' },
      /DATABASE_URL: must be a URL/,
    ],
    [
      'retry delays that are not numbers',
      { RETRY_DELAYS_MS: '100,soon' },
      /RETRY_DELAYS_MS: must be a comma-separated/,
    ],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ];
  for (const [what, env, message] of cases) {
    it(`${what} stops the app with a message naming the variable`, async () => {
      const app = AppProcess.node(distPath('apps/gateway/src/main.js'), env);
      const { code } = await app.exited;
      assert.equal(code, 1);
      assert.match(app.stderr.join('\n'), message);
      assert.doesNotMatch(app.stderr.join('\n'), /at .*\.js:\d+/, 'no stack trace, just the message');
    });
  }
});

describe('development start-up', () => {
  it('creates the database and runs the migrations when DATABASE_MIGRATE_ON_START is on', async () => {
    const { ownerUrl, appUrl } = separateDatabase('startup');
    const prefix = uniquePrefix('startup');
    const port = await freePort();
    const gateway = AppProcess.node(distPath('apps/gateway/src/main.js'), {
      GATEWAY_PORT: String(port),
      DATABASE_URL: appUrl,
      DATABASE_MIGRATION_URL: ownerUrl,
      DATABASE_MIGRATE_ON_START: 'true',
      AMQP_PREFIX: prefix,
    });
    try {
      await gateway.waitForHttp(`http://127.0.0.1:${port}/health/ready`);
      const client = new pg.Client({ connectionString: ownerUrl });
      await client.connect();
      const { rows } = await client.query(`SELECT name FROM schema_migrations ORDER BY id`);
      await client.end();
      assert.deepEqual(
        rows.map((r: { name: string }) => r.name),
        migrations.map((m) => new m().name),
      );
    } finally {
      await gateway.stop();
      await dropDatabase(ownerUrl);
      await cleanupBroker(prefix);
    }
  });
});
