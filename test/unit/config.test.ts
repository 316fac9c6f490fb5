import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { getMetadataStorage } from 'class-validator';
import {
  ConfigError,
  amqpEnv,
  databaseEnv,
  loadEnv,
  migrationEnv,
  outboxEnv,
  port,
  productionRequiredVariables,
  rateLimitEnv,
  runtimeEnv,
  webhookEnv,
} from '#config';
import { AdminEnv, adminEnv } from '../../apps/admin/src/config.js';
import { GatewayEnv, gatewayEnv, loadGatewayConfig } from '../../apps/gateway/src/config.js';

const shape = { ...runtimeEnv, ...databaseEnv, ...amqpEnv, ...outboxEnv, ...port('GATEWAY_PORT', 3000) };

describe('configuration', () => {
  it('has working local defaults', () => {
    const config = loadEnv(shape, {});
    assert.equal(config.GATEWAY_PORT, 3000);
    assert.equal(config.DATABASE_URL, 'postgres://tally_app@127.0.0.1:5432/tally');
    assert.equal(config.DATABASE_MIGRATION_URL, 'postgres://postgres@127.0.0.1:5432/tally');
    assert.equal(config.AMQP_URL, 'amqp://guest:guest@127.0.0.1:5672');
    assert.deepEqual(config.RETRY_DELAYS_MS, [1000, 10_000, 60_000, 300_000]);
    assert.equal(config.DATABASE_MIGRATE_ON_START, true);
    assert.equal(config.AMQP_PREFIX, '');
  });

  it('parses and types what it is given', () => {
    const config = loadEnv(shape, {
      GATEWAY_PORT: '8080',
      RETRY_DELAYS_MS: '200, 400,800',
      DATABASE_MIGRATE_ON_START: 'false',
      AMQP_PREFIX: 'test.abc.',
    });
    assert.equal(config.GATEWAY_PORT, 8080);
    assert.deepEqual(config.RETRY_DELAYS_MS, [200, 400, 800]);
    assert.equal(config.DATABASE_MIGRATE_ON_START, false);
    assert.equal(config.AMQP_PREFIX, 'test.abc.');
  });

  it('treats an empty value as unset', () => {
    assert.equal(loadEnv(shape, { GATEWAY_PORT: '' }).GATEWAY_PORT, 3000);
  });

  it('names every bad variable at once', () => {
    const error = (() => {
      try {
        loadEnv(shape, {
          GATEWAY_PORT: '70000',
          DATABASE_URL: 'not a url',
          AMQP_URL: 'http://rabbit',
          RETRY_DELAYS_MS: '500,100',
          AMQP_PREFIX: 'Has Spaces',
          DATABASE_MIGRATE_ON_START: 'maybe',
          NODE_ENV: 'staging',
        });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems.map((p) => p.variable).sort(), [
      'AMQP_PREFIX',
      'AMQP_URL',
      'DATABASE_MIGRATE_ON_START',
      'DATABASE_URL',
      'GATEWAY_PORT',
      'NODE_ENV',
      'RETRY_DELAYS_MS',
    ]);
    assert.match(error.message, /RETRY_DELAYS_MS: must not decrease/);
  });

  it('takes DNS servers for webhook hosts as dns.setServers does, and nothing else', () => {
    const servers = (value: string) =>
      loadEnv(gatewayEnv, { WEBHOOK_DNS_SERVERS: value }).WEBHOOK_DNS_SERVERS;
    assert.deepEqual(servers('127.0.0.1:5353, ::1,[::1]:53,10.0.0.2'), [
      '127.0.0.1:5353',
      '::1',
      '[::1]:53',
      '10.0.0.2',
    ]);
    assert.deepEqual(loadEnv(gatewayEnv, {}).WEBHOOK_DNS_SERVERS, [], 'unset: the system resolver');
    for (const bad of ['dns.example', '127.0.0.1:0', '127.0.0.1:70000', '::1:53x', '[127.0.0.1', '1.2.3']) {
      assert.throws(() => servers(bad), /WEBHOOK_DNS_SERVERS/, bad);
    }
  });

  it('never echoes a value back (it may be a secret)', () => {
    try {
      loadEnv(shape, { DATABASE_URL: 'mysql://user:s3cret@db/x' });
      assert.fail('should have thrown');
    } catch (e) {
      assert.doesNotMatch((e as Error).message, /s3cret/);
    }
  });

  it('in production, refuses the development defaults of the connections', () => {
    const problems = (env: Record<string, string>, of: Parameters<typeof loadEnv>[0] = shape) => {
      try {
        loadEnv(of, env);
        return [];
      } catch (e) {
        return (e as ConfigError).problems.map((p) => p.variable).sort();
      }
    };
    assert.deepEqual(problems({ NODE_ENV: 'production' }), ['AMQP_URL', 'DATABASE_URL']);
    assert.deepEqual(problems({ NODE_ENV: 'development' }), []);
    assert.deepEqual(
      problems({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x', AMQP_URL: 'amqp://mq' }),
      [],
    );
    // The migrate command connects only as the schema owner.
    assert.deepEqual(problems({ NODE_ENV: 'production' }, migrationEnv), ['DATABASE_MIGRATION_URL']);
    assert.deepEqual(productionRequiredVariables(shape).sort(), ['AMQP_URL', 'DATABASE_URL']);
  });

  it("admin: the adjustments' rolling window is a day by default, between a minute and 31 days", () => {
    assert.equal(loadEnv(adminEnv, {}).ADMIN_ADJUSTMENT_APPROVAL_WINDOW_SECONDS, 86_400);
    assert.equal(
      loadEnv(adminEnv, { ADMIN_ADJUSTMENT_APPROVAL_WINDOW_SECONDS: '3600' })
        .ADMIN_ADJUSTMENT_APPROVAL_WINDOW_SECONDS,
      3600,
    );
    for (const bad of ['59', '2678401', '1h', '-5']) {
      assert.throws(
        () => loadEnv(adminEnv, { ADMIN_ADJUSTMENT_APPROVAL_WINDOW_SECONDS: bad }),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.problems.some((p) => p.variable === 'ADMIN_ADJUSTMENT_APPROVAL_WINDOW_SECONDS'),
        bad,
      );
    }
  });
});

describe('configuration classes', () => {
  it('validate with class-validator: every variable of an app has its constraints registered', () => {
    const storage = getMetadataStorage();
    for (const config of [GatewayEnv, AdminEnv]) {
      const validated = new Set(
        storage.getTargetValidationMetadatas(config, '', true, false).map((m) => m.propertyName),
      );
      assert.deepEqual([...validated].sort(), [...config.variables].sort());
    }
    assert.equal(GatewayEnv.httpPort, 'GATEWAY_PORT');
    assert.deepEqual([...AdminEnv.productionRequired].sort(), [
      'ADMIN_JWT_SECRET',
      'AMQP_URL',
      'DATABASE_URL',
    ]);
    assert.ok(GatewayEnv.productionRequired.includes('CUSTOMER_TOKEN_SECRET'));
  });

  it('the customer token secret: at least 32 characters, and set in production', () => {
    assert.throws(
      () => loadGatewayConfig({ CUSTOMER_TOKEN_SECRET: 'short' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.some(
          (p) => p.variable === 'CUSTOMER_TOKEN_SECRET' && p.message === 'must be at least 32 characters',
        ),
    );
    assert.throws(
      () => loadGatewayConfig({ NODE_ENV: 'production' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.some(
          (p) => p.variable === 'CUSTOMER_TOKEN_SECRET' && /must be set in production/.test(p.message),
        ),
    );
    assert.equal(
      loadGatewayConfig({ CUSTOMER_TOKEN_SECRET: 'x'.repeat(32) }).CUSTOMER_TOKEN_SECRET,
      'x'.repeat(32),
    );
  });

  it('decodes webhook encryption keys to 32-byte buffers, and refuses a key of another length', () => {
    const [first, second] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    const keys = loadEnv(webhookEnv, {
      WEBHOOK_ENCRYPTION_KEYS: `${first.toString('base64')}, ${second.toString('base64')}`,
    }).WEBHOOK_ENCRYPTION_KEYS;
    assert.ok(keys.every((k) => Buffer.isBuffer(k)));
    assert.deepEqual(
      keys.map((k) => k.toString('hex')),
      [first.toString('hex'), second.toString('hex')],
    );
    assert.deepEqual(loadEnv(webhookEnv, {}).WEBHOOK_ENCRYPTION_KEYS, []);
    assert.throws(
      () => loadEnv(webhookEnv, { WEBHOOK_ENCRYPTION_KEYS: Buffer.alloc(16).toString('base64') }),
      /WEBHOOK_ENCRYPTION_KEYS: each key must be 32 bytes/,
    );
  });

  it('gateway: INVENTORY_LOCKING is pessimistic by default, one of the three strategies, nothing else', () => {
    assert.equal(loadGatewayConfig({}).INVENTORY_LOCKING, 'pessimistic');
    for (const strategy of ['pessimistic', 'distributed', 'optimistic']) {
      assert.equal(loadGatewayConfig({ INVENTORY_LOCKING: strategy }).INVENTORY_LOCKING, strategy);
    }
    for (const bad of ['none', 'redis', 'PESSIMISTIC']) {
      assert.throws(() => loadGatewayConfig({ INVENTORY_LOCKING: bad }), /INVENTORY_LOCKING/, bad);
    }
    assert.equal(loadGatewayConfig({}).INVENTORY_OPTIMISTIC_ATTEMPTS, 5);
  });

  it('rate limits refill at fractional rates, and refuse zero, negatives and words', () => {
    const config = loadEnv(rateLimitEnv, {
      RATE_LIMIT_WRITES_PER_SECOND: '0.5',
      RATE_LIMIT_READS_PER_SECOND: '3',
    });
    assert.equal(config.RATE_LIMIT_WRITES_PER_SECOND, 0.5);
    assert.equal(config.RATE_LIMIT_READS_PER_SECOND, 3);
    assert.equal(config.RATE_LIMIT_EVENTS_PER_SECOND, 50);
    for (const bad of ['0', '-1', 'fast', '1e3', '.5', '2000000']) {
      assert.throws(
        () => loadEnv(rateLimitEnv, { RATE_LIMIT_WRITES_PER_SECOND: bad }),
        /RATE_LIMIT_WRITES_PER_SECOND: must be/,
        bad,
      );
    }
  });

  it('says what is wrong in words, one problem per variable', () => {
    assert.throws(
      () =>
        loadEnv(adminEnv, {
          ADMIN_PORT: '99999',
          ADMIN_LOGIN_MAX_FAILURES: '0',
          ADMIN_JWT_SECRET: 'short',
          ADMIN_EMAIL: 'nobody',
          ADMIN_CORS_ORIGINS: 'https://ok.example, ftp://no',
          LOG_LEVEL: 'loud',
        }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(Object.fromEntries(e.problems.map((p) => [p.variable, p.message])), {
          ADMIN_PORT: 'must be at most 65535',
          ADMIN_LOGIN_MAX_FAILURES: 'must be at least 1',
          ADMIN_JWT_SECRET: 'must be at least 32 characters',
          ADMIN_EMAIL: 'must be an e-mail address',
          ADMIN_CORS_ORIGINS: 'each origin must be scheme://host[:port]',
          LOG_LEVEL: 'must be one of fatal, error, warn, info, debug, trace, silent',
        });
        return true;
      },
    );
  });
});
