/**
 * The fault-injection suite (`npm run test:faults`): each scenario runs the four apps under live
 * load, injects one fault, clears it, waits until everything has drained and then checks the
 * guarantees — no accepted transaction lost, none applied twice, balances equal to what was
 * accepted, `ledger:verify` clean, every outbox row published, every queue empty and every dead
 * letter the expected one. It stops and restarts the shared PostgreSQL and RabbitMQ, so it holds
 * the machine-wide services lock exclusively while it runs (and runs last in `npm test`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { Exchanges } from '#messaging';
import {
  Api,
  ServicesLock,
  createTenant,
  inParallel,
  metricSum,
  releaseRunSharedLock,
  testSettings,
  waitFor,
  type AppName,
} from '#test-support';
import pg from 'pg';
import {
  LIBFAKETIME,
  brokerAlarms,
  killRedis,
  raiseBrokerAlarm,
  restartPostgres,
  startBroker,
  startRedis,
  stopBroker,
} from './services.js';
import { FaultStack, diedAtFaultPoint, formatTable, type ScenarioContext } from './scenario.js';

const KEY = () => `k-${randomBytes(6).toString('hex')}`;

/** A shop of its own beside the scenario's tenant: funded accounts and one product. */
async function openShop(gatewayUrl: string, accounts: number, funding: number, stock: number) {
  const { tenantId, apiKey } = await createTenant(`shop ${randomBytes(3).toString('hex')}`);
  const api = new Api(gatewayUrl, apiKey);
  const ids: string[] = [];
  for (let i = 0; i < accounts; i++) {
    const id = await api.account();
    await api.deposit(id, funding);
    ids.push(id);
  }
  const product = await api.post('/v1/products', {
    sku: `SKU-${randomBytes(4).toString('hex')}`,
    name: 'Fault lamp',
    price: 7,
    currency: 'USD',
    stock,
  });
  assert.equal(product.status, 201, product.text);
  return { tenantId, api, accounts: ids, productId: product.body.id as string };
}

const WORKER = 'transaction-worker';

/** Messages the running consumers found already handled (inbox): proof that copies reached them. */
const duplicatesSeen = async (
  { stack }: ScenarioContext,
  apps: AppName[] = [WORKER, 'notification'],
): Promise<number> => {
  let sum = 0;
  for (const app of apps) {
    sum += await metricSum(stack.url(app), 'tally_messages_consumed_total', 'outcome="duplicate"');
  }
  return sum;
};

const unpublished = async ({ db }: ScenarioContext): Promise<number> =>
  (await db.query(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`))[0].n;

/** The scenario's transactions that are final: what the worker has done so far. */
const finished = async ({ db, tenantId }: ScenarioContext): Promise<number> =>
  (
    await db.query(
      `SELECT count(*)::int AS n FROM transactions WHERE tenant_id = $1 AND status IN ('succeeded', 'failed')`,
      [tenantId],
    )
  )[0].n;

/**
 * The worker's payout circuit breaker: its gauge (0 closed, 1 half-open, 2 open) and readiness
 * detail, the gauge read first. While the provider is cut off a breaker seen open stays open or
 * half-open (both degraded), so readiness read after it agrees; read before, it could still show
 * the moment before the breaker opened (a full run saw gauge 2 with readiness `up`).
 */
const breaker = async ({ stack }: ScenarioContext): Promise<{ gauge: number; ready: string }> => {
  const gauge = await metricSum(stack.url(WORKER), 'tally_payout_breaker_state');
  const res = await fetch(`${stack.url(WORKER)}/health/ready`);
  const body = (await res.json()) as { details: Record<string, { status: string }> };
  return { gauge, ready: `${res.status} ${body.details.payoutProvider?.status}` };
};

/** The scenario's payouts in one status (`queued`: waiting for a call to the provider). */
const payoutsIn = async ({ db, tenantId }: ScenarioContext, status: string): Promise<string[]> =>
  (
    (await db.query(
      `SELECT p.transaction_id AS id FROM payouts p JOIN transactions t ON t.id = p.transaction_id
        WHERE t.tenant_id = $1 AND p.status = $2`,
      [tenantId, status],
    )) as { id: string }[]
  ).map((r) => r.id);

/** Withdrawals the gateway has accepted so far (202). */
const withdrawalsAccepted = ({ load }: ScenarioContext): number =>
  [...load.accepted.values()].filter((i) => i.type === 'withdrawal').length;

/** Share of the load that is withdrawals in the payout scenarios. */
const WITHDRAWALS = 0.2;

/** A connection of its own as the schema owner (not from the suite's pool). */
const ownerClient = async (): Promise<pg.Client> => {
  const client = new pg.Client({ connectionString: testSettings().ownerUrl });
  await client.connect();
  return client;
};

/**
 * A broker alarm raised under load: the broker blocks every publisher, so the relays stop while
 * the gateway goes on accepting into the outbox; once it clears, everything drains.
 */
const brokerAlarmScenario = (kind: 'memory' | 'disk') => {
  let growth: number[] = [];
  let raised: string[] = [];
  return {
    name: `broker ${kind} alarm`,
    inject: async (ctx: ScenarioContext) => {
      const refusedBefore = ctx.load.stats.unavailable + ctx.load.stats.networkErrors;
      const clear = await raiseBrokerAlarm(kind);
      try {
        await waitFor(`the ${kind} alarm`, async () => (await brokerAlarms()).includes(kind), 20_000, 200);
        raised = await brokerAlarms();
        const early = await unpublished(ctx);
        await sleep(3_000);
        growth = [early, await unpublished(ctx)];
        assert.equal(
          ctx.load.stats.unavailable + ctx.load.stats.networkErrors,
          refusedBefore,
          'every request was accepted while publishers were blocked',
        );
      } finally {
        await clear();
      }
      await waitFor('the alarm to clear', async () => (await brokerAlarms()).length === 0, 30_000, 200);
      return Date.now();
    },
    check: async () => {
      assert.ok(raised.includes(kind), `the broker raised its ${kind} alarm (${raised.join(', ')})`);
      assert.ok(
        growth[1] > growth[0],
        `the outbox filled while publishers were blocked (${growth.join(' → ')})`,
      );
    },
  };
};

describe('fault injection under live load', () => {
  const suite = new FaultStack();
  let lock: ServicesLock | undefined;
  beforeAll(async () => {
    // This run's shared hold on the services becomes an exclusive one: the suite waits for the
    // other test runs on this machine to finish, and new ones wait for it.
    await releaseRunSharedLock();
    lock = await ServicesLock.take('exclusive');
    await suite.start();
  });
  afterAll(async () => {
    console.log(`\nFault-injection suite\n\n${formatTable(suite.results)}\n`);
    try {
      await suite.stop();
    } finally {
      // Let go only once PostgreSQL and RabbitMQ run again (the lock's holder sees to it).
      await lock?.release();
    }
  });

  it('kill -9 of the worker before its batch commits: rolled back, redelivered, applied once', async () => {
    await suite.run({
      name: 'worker killed before commit',
      setup: () => suite.restart(WORKER, { TALLY_FAULTS: 'worker.before-commit:after=40' }),
      inject: async ({ stack }) => {
        await diedAtFaultPoint(stack, WORKER);
        await sleep(1_000); // down for a second while clients keep posting
        await suite.restart(WORKER);
        return Date.now();
      },
    });
  });

  it('kill -9 of the worker after commit, before ack: the redelivered batch is a no-op', async () => {
    await suite.run({
      name: 'worker killed after commit',
      setup: () => suite.restart(WORKER, { TALLY_FAULTS: 'worker.after-commit:after=40' }),
      inject: async ({ stack }) => {
        await diedAtFaultPoint(stack, WORKER);
        await sleep(1_000);
        await suite.restart(WORKER);
        return Date.now();
      },
      check: async (ctx) => {
        // The worker restarted after the crash: its count is of the redelivered batch alone.
        assert.ok(
          (await duplicatesSeen(ctx, [WORKER])) > 0,
          'the committed, unacked batch came back as duplicates',
        );
      },
    });
  });

  it('kill -9 of the outbox relay between publish confirm and marking rows published', async () => {
    let duplicatesBefore = 0;
    await suite.run({
      // The gateway hosts the relay that dies; clients retry by key while it restarts.
      name: 'relay killed after confirm',
      // The killed batch may hold commands or the worker's outcome events: copies reach any consumer.
      setup: async (ctx) => {
        await suite.restart('gateway', { TALLY_FAULTS: 'relay.after-confirm:after=40' });
        duplicatesBefore = await duplicatesSeen(ctx);
      },
      inject: async (ctx) => {
        await diedAtFaultPoint(ctx.stack, 'gateway');
        await sleep(500);
        await suite.restart('gateway');
        return Date.now();
      },
      check: async (ctx) => {
        assert.ok(
          (await duplicatesSeen(ctx)) > duplicatesBefore,
          'the confirmed, unmarked rows were published again',
        );
      },
    });
  });

  it('a poison message among good ones: it alone lands in the DLQ, every good one succeeds', async () => {
    const poison = new Map<string, string>();
    await suite.run({
      name: 'poison messages',
      inject: async ({ stack, tenantId }) => {
        const connection = await amqp.connect(testSettings().amqpUrl);
        try {
          const channel = await connection.createConfirmChannel();
          const publish = (messageId: string, body: string) =>
            channel.publish(
              `${stack.prefix}${Exchanges.commands}`,
              'transaction.requested',
              Buffer.from(body),
              {
                messageId,
                type: 'transaction.requested',
                persistent: true,
              },
            );
          const stamp = Date.now();
          publish(
            `msg_poison_missing_${stamp}`,
            JSON.stringify({ transactionId: `txn_nope${stamp}`, tenantId }),
          );
          poison.set(`msg_poison_missing_${stamp}`, 'transaction_missing');
          await sleep(500);
          publish(`msg_poison_garbled_${stamp}`, '{"transactionId": ');
          poison.set(`msg_poison_garbled_${stamp}`, 'malformed_body');
          await channel.waitForConfirms();
        } finally {
          await connection.close();
        }
        return Date.now();
      },
      deadLetters: () => poison,
    });
  });

  it('a storm of duplicates (every command republished 3 times) and of requeues: each applied once', async () => {
    let copies = 0;
    let requeued = 0;
    let duplicatesBefore = 0;
    await suite.run({
      name: 'duplicate and requeue storm',
      inject: async (ctx) => {
        const { stack, db, tenantId } = ctx;
        duplicatesBefore = await duplicatesSeen(ctx);
        const connection = await amqp.connect(testSettings().amqpUrl);
        try {
          const publisher = await connection.createConfirmChannel();
          let lastId = '0';
          for (let round = 0; round < 10; round++) {
            // Copies of every command published so far, as a broker or relay might redeliver them.
            const rows: {
              id: string;
              message_id: string;
              routing_key: string;
              message_type: string;
              payload: string;
              headers: Record<string, unknown>;
            }[] = await db.query(
              `SELECT id::text, message_id, routing_key, message_type, payload::text AS payload, headers
                 FROM outbox WHERE message_type = 'transaction.requested' AND payload->>'tenantId' = $1
                  AND published_at IS NOT NULL AND id > $2 ORDER BY id`,
              [tenantId, lastId],
            );
            for (const row of rows) {
              for (let i = 0; i < 3; i++) {
                publisher.publish(
                  `${stack.prefix}${Exchanges.commands}`,
                  row.routing_key,
                  Buffer.from(row.payload),
                  {
                    messageId: row.message_id,
                    type: row.message_type,
                    headers: row.headers,
                    persistent: true,
                  },
                );
                copies++;
              }
              lastId = row.id;
            }
            await publisher.waitForConfirms();
            // Every third round, a consumer grabs what it can of the worker's queue and drops it
            // unacked: the broker requeues all of it at once (counted against the delivery limit).
            if (round % 3 === 0) {
              const grabber = await connection.createChannel();
              await grabber.prefetch(100);
              await grabber.consume(`${stack.prefix}transaction-worker.commands`, () => requeued++, {
                noAck: false,
              });
              await sleep(200);
              await grabber.close();
            } else {
              await sleep(300);
            }
          }
        } finally {
          await connection.close();
        }
        return Date.now();
      },
      check: async (ctx) => {
        assert.ok(copies > 100, `republished ${copies} copies`);
        assert.ok(requeued > 0, 'the requeue storm took messages');
        assert.ok((await duplicatesSeen(ctx)) > duplicatesBefore, 'the worker met the copies');
      },
    });
  });

  it("the gateway's broker connection cut: it keeps accepting into the outbox, which drains after", async () => {
    let growth: number[] = [];
    await suite.run({
      name: 'gateway broker link cut',
      // The gateway's relay is the only one, so the outbox has to hold everything during the cut.
      setup: () => suite.restart(WORKER, { OUTBOX_RELAY_ENABLED: 'false' }),
      inject: async (ctx) => {
        const refusedBefore = ctx.load.stats.unavailable + ctx.load.stats.networkErrors;
        suite.proxy.cut();
        await sleep(1_000);
        const early = await unpublished(ctx);
        await sleep(3_000);
        growth = [early, await unpublished(ctx)];
        assert.equal(
          ctx.load.stats.unavailable + ctx.load.stats.networkErrors,
          refusedBefore,
          'every request was accepted during the cut',
        );
        suite.proxy.restore();
        return Date.now();
      },
    });
    assert.ok(growth[1] > growth[0], `the outbox kept filling during the cut (${growth.join(' → ')})`);
  });

  it('RabbitMQ stopped and started under load: the outbox absorbs it, everything drains after', async () => {
    let backlog = 0;
    await suite.run({
      name: 'RabbitMQ stopped',
      inject: async (ctx) => {
        const refusedBefore = ctx.load.stats.unavailable + ctx.load.stats.networkErrors;
        await stopBroker();
        try {
          await sleep(4_000);
          backlog = await unpublished(ctx);
          assert.equal(
            ctx.load.stats.unavailable + ctx.load.stats.networkErrors,
            refusedBefore,
            'every request was accepted while the broker was down',
          );
        } finally {
          await startBroker();
        }
        return Date.now();
      },
    });
    assert.ok(backlog > 0, 'the outbox held the work while the broker was down');
  });

  it('PostgreSQL restarted under load: clean 503s, nothing half-written, the apps recover by themselves', async () => {
    await suite.run({
      name: 'PostgreSQL restarted',
      inject: async () => {
        await restartPostgres();
        return Date.now();
      },
      check: async ({ stack, load }) => {
        assert.ok(load.stats.unavailable > 0, 'clients met the outage (as 503s)');
        for (const [name, app] of stack.apps)
          assert.equal(app.process.exit, undefined, `${name} kept running`);
      },
    });
  });
  it('two gateways take the same idempotency keys at the same moment: each request is accepted once', async () => {
    let second: Awaited<ReturnType<typeof suite.stack.startExtra>> | undefined;
    try {
      await suite.run({
        name: 'two gateways, same keys',
        setup: async () => {
          second = await suite.stack.startExtra('gateway');
        },
        // Every request goes to both gateways at once, under one key.
        load: { mirror: () => second!.url },
        inject: async () => {
          await sleep(4_000);
          return Date.now();
        },
        check: async ({ load }) => {
          // Each key: one gateway accepted it, the other answered the stored answer (after 409s
          // while the first was under way): as many replays as requests, at least.
          assert.ok(
            load.stats.replayed >= load.accepted.size,
            `${load.stats.replayed} replays for ${load.accepted.size} requests`,
          );
        },
      });
    } finally {
      await second?.process.stop();
    }
  });

  it('a hot-account storm: all the load on two accounts, every transaction applied once', async () => {
    await suite.run({
      name: 'hot-account storm',
      accounts: 2,
      load: { clients: 12, pauseMs: 0 },
      inject: async () => {
        await sleep(5_000);
        return Date.now();
      },
    });
  });

  it("the broker's memory alarm under load: publishers blocked, then released", async () => {
    await suite.run(brokerAlarmScenario('memory'));
  });

  it("the broker's disk alarm under load: publishers blocked, then released", async () => {
    await suite.run(brokerAlarmScenario('disk'));
  });

  it('PostgreSQL made slow: another session holds the accounts locked; the worker waits, then catches up', async () => {
    let during: number[] = [];
    let waiting = 0;
    await suite.run({
      name: 'PostgreSQL locks held',
      inject: async (ctx) => {
        // A long transaction that updated the tenant's accounts (an operator's, a batch job's):
        // their rows stay locked until it ends. The gateway's reads and foreign-key checks do not
        // wait for such a lock; the worker's balance changes do.
        const blocker = await ownerClient();
        try {
          // In id order, the order the worker locks in: an unordered UPDATE can take rows the
          // other way round from a worker's transfer, and the deadlock detector may pick us.
          await blocker.query('BEGIN');
          await blocker.query(`SELECT id FROM accounts WHERE tenant_id = $1 ORDER BY id FOR NO KEY UPDATE`, [
            ctx.tenantId,
          ]);
          await sleep(1_000);
          const first = await finished(ctx);
          for (let i = 0; i < 10; i++) {
            await sleep(500);
            const [{ n }] = await ctx.db.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE usename = 'tally_app' AND wait_event_type = 'Lock' AND datname = current_database()`,
            );
            waiting = Math.max(waiting, n);
          }
          during = [first, await finished(ctx)];
        } finally {
          await blocker.query('COMMIT').catch(() => undefined);
          await blocker.end();
        }
        return Date.now();
      },
      check: async () => {
        assert.ok(waiting > 0, 'the worker waited for the locks');
        assert.equal(
          during[1],
          during[0],
          `nothing of the tenant finished while it was locked (${during.join(' → ')})`,
        );
      },
    });
  });

  it("PostgreSQL's connections exhausted: clean 503s while no connection can be had, then recovery", async () => {
    let hogs = 0;
    let refusedBefore = 0;
    await suite.run({
      name: 'PostgreSQL out of connections',
      inject: async (ctx) => {
        refusedBefore = ctx.load.stats.unavailable;
        const held: pg.Client[] = [];
        /** Takes every connection the server still allows (the reserved ones too: a superuser's). */
        const grab = async () => {
          for (;;) {
            const client = new pg.Client({ connectionString: testSettings().ownerUrl });
            client.on('error', () => undefined);
            try {
              await client.connect();
            } catch {
              return;
            }
            held.push(client);
          }
        };
        try {
          await grab();
          hogs = held.length;
          // The gateway loses its pooled connections, again and again, and every slot they free is
          // taken before it can have it: each request it is handling meets a database it cannot reach.
          const until = Date.now() + 3_000;
          while (Date.now() < until) {
            await held[0].query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE usename = 'tally_app' AND application_name = 'tally-gateway' AND datname = current_database()`,
            );
            await grab();
            await sleep(200);
          }
        } finally {
          await Promise.all(held.map((c) => c.end().catch(() => undefined)));
        }
        return Date.now();
      },
      check: async ({ load, stack }) => {
        assert.ok(hogs > 0, 'connections were taken');
        assert.ok(load.stats.unavailable > refusedBefore, 'clients met the exhaustion as 503s');
        for (const [name, app] of stack.apps)
          assert.equal(app.process.exit, undefined, `${name} kept running`);
      },
    });
  });

  it('the worker cut from PostgreSQL for 20 s (its link stalls): nothing lost, nothing twice', async () => {
    let during: number[] = [];
    await suite.run({
      name: 'worker link to PostgreSQL stalled',
      setup: () => suite.restart(WORKER, { DATABASE_URL: suite.databaseViaProxy() }),
      inject: async (ctx) => {
        suite.pgProxy.stall();
        try {
          await sleep(2_000);
          const first = await finished(ctx);
          await sleep(18_000);
          during = [first, await finished(ctx)];
        } finally {
          suite.pgProxy.restore();
        }
        return Date.now();
      },
      check: async () => {
        assert.equal(
          during[1],
          during[0],
          `the worker finished nothing while stalled (${during.join(' → ')})`,
        );
      },
    });
  });

  it('Redis killed under load: limits fail open, reads and stock locks fall back to PostgreSQL', async () => {
    const STOCK = 30;
    const ORDERS = 40;
    let failuresBefore = 0;
    let shop: Awaited<ReturnType<typeof openShop>>;
    const answers: { status: number; code?: string; id?: string }[] = [];
    const reads: number[] = [];
    await suite.run({
      name: 'Redis killed',
      setup: async ({ stack }) => {
        await suite.restart('gateway', {
          REDIS_URL: 'redis://127.0.0.1:6379',
          REDIS_KEY_PREFIX: `${stack.prefix}redis:`,
          // Stock taken under a Redis lock per product: with Redis gone, under row locks.
          INVENTORY_LOCKING: 'distributed',
        });
        shop = await openShop(stack.url('gateway'), 2, 10_000, STOCK);
        failuresBefore = await metricSum(stack.url('gateway'), 'tally_rate_limit_store_failures_total');
      },
      inject: async ({ stack }) => {
        await killRedis();
        try {
          // More orders than stock, and product reads, while Redis is gone.
          const api = new Api(stack.url('gateway'), shop.api.apiKey);
          await inParallel(ORDERS, 4, async (i) => {
            const res = await api.post(
              '/v1/orders',
              { accountId: shop.accounts[i % 2], items: [{ productId: shop.productId, quantity: 1 }] },
              { 'idempotency-key': KEY() },
            );
            answers.push({ status: res.status, code: res.body?.code, id: res.body?.id });
            reads.push((await api.get(`/v1/products/${shop.productId}`)).status);
          });
          await sleep(1_000);
        } finally {
          await startRedis();
        }
        return Date.now();
      },
      check: async ({ stack, db }) => {
        assert.ok(
          (await metricSum(stack.url('gateway'), 'tally_rate_limit_store_failures_total')) > failuresBefore,
          'the gateway met Redis gone, and let requests through',
        );
        assert.deepEqual(
          reads.filter((s) => s !== 200),
          [],
          'product reads answered from PostgreSQL while Redis was gone',
        );
        // Every order either placed or refused for want of stock: so exactly the stock was sold.
        const created = answers.filter((a) => a.status === 201);
        assert.deepEqual(
          answers.filter((a) => a.status !== 201).map((a) => `${a.status} ${a.code}`),
          Array(ORDERS - STOCK).fill('409 out_of_stock'),
        );
        assert.equal(created.length, STOCK);
        await waitFor(
          'the orders to complete',
          async () => {
            const [{ n }] = await db.query(
              `SELECT count(*)::int AS n FROM orders WHERE tenant_id = $1 AND status = 'completed'`,
              [shop.tenantId],
            );
            return n === STOCK;
          },
          60_000,
        );
        const [product] = await db.query(
          `SELECT stock_received::int AS received, stock_reserved::int AS reserved, stock_sold::int AS sold
             FROM products WHERE id = $1`,
          [shop.productId],
        );
        assert.deepEqual(product, { received: STOCK, reserved: 0, sold: STOCK });
      },
    });
  });

  it('kill -9 of the gateway in the middle of an accept batch: every 202 it sent exists, none twice', async () => {
    let networkErrorsBefore = 0;
    await suite.run({
      name: 'gateway killed mid accept batch',
      // Twelve clients without pauses: requests queue up and go to the database in batches.
      load: { clients: 12, pauseMs: 0 },
      setup: async ({ load }) => {
        await suite.restart('gateway', { TALLY_FAULTS: 'gateway.after-accept-commit:after=60' });
        networkErrorsBefore = load.stats.networkErrors;
      },
      inject: async ({ stack }) => {
        // The batch is committed and none of its requests answered: their clients see the
        // connection drop and retry the same keys against the gateway that replaces it.
        await diedAtFaultPoint(stack, 'gateway');
        await sleep(1_000);
        await suite.restart('gateway');
        return Date.now();
      },
      check: async ({ load }) => {
        assert.ok(load.stats.networkErrors > networkErrorsBefore, 'clients saw the gateway die');
        assert.ok(
          load.stats.replayed > 0,
          'requests the dead gateway had committed were answered again from their stored answers',
        );
      },
    });
  });

  it('kill -9 of the worker while it completes orders: each order completed once, stock exact', async () => {
    const ORDERS = 40;
    const STOCK = 1_000;
    const FUNDING = 10_000;
    let shop: Awaited<ReturnType<typeof openShop>>;
    const placed = new Map<string, number>(); // order id → quantity
    await suite.run({
      name: 'worker killed mid order',
      setup: async ({ stack }) => {
        shop = await openShop(stack.url('gateway'), 4, FUNDING, STOCK);
        await suite.restart(WORKER, { TALLY_FAULTS: 'worker.order-before-commit:after=10' });
      },
      inject: async ({ stack }) => {
        const placing = inParallel(ORDERS, 4, async (i) => {
          const quantity = 1 + (i % 3);
          const res = await shop.api.post(
            '/v1/orders',
            { accountId: shop.accounts[i % 4], items: [{ productId: shop.productId, quantity }] },
            { 'idempotency-key': KEY() },
          );
          assert.equal(res.status, 201, res.text);
          placed.set(res.body.id, quantity);
        });
        // The eleventh order's capture and sale are written, not committed, when the worker dies.
        await diedAtFaultPoint(stack, WORKER);
        await placing;
        await sleep(1_000);
        await suite.restart(WORKER);
        return Date.now();
      },
      check: async (ctx) => {
        const { db } = ctx;
        const orders: { id: string; status: string; transaction_id: string | null; total: string }[] =
          await waitFor(
            'every order to be completed',
            async () => {
              const rows: { id: string; status: string; transaction_id: string | null; total: string }[] =
                await db.query(
                  `SELECT id, status, transaction_id, total::text AS total FROM orders WHERE tenant_id = $1`,
                  [shop.tenantId],
                );
              return rows.length === ORDERS && rows.every((r) => r.status !== 'reserved') ? rows : false;
            },
            60_000,
          );
        assert.deepEqual(
          orders.filter((o) => o.status !== 'completed').map((o) => `${o.id} ${o.status}`),
          [],
          'every order completed',
        );
        // One capture per order, each with its two entries: none applied twice.
        const captures: { n: number; entries: number; orders: number }[] = await db.query(
          `SELECT count(*)::int AS n,
                  (SELECT count(*)::int FROM ledger_entries e JOIN transactions c ON c.id = e.transaction_id
                    WHERE c.tenant_id = $1 AND c.type = 'capture') AS entries,
                  count(DISTINCT metadata->>'orderId')::int AS orders
             FROM transactions WHERE tenant_id = $1 AND type = 'capture' AND status = 'succeeded'`,
          [shop.tenantId],
        );
        assert.deepEqual(captures[0], { n: ORDERS, entries: 2 * ORDERS, orders: ORDERS });
        const sold = [...placed.values()].reduce((a, b) => a + b, 0);
        const [product] = await db.query(
          `SELECT stock_received::int AS received, stock_reserved::int AS reserved, stock_sold::int AS sold
             FROM products WHERE id = $1`,
          [shop.productId],
        );
        assert.deepEqual(product, { received: STOCK, reserved: 0, sold });
        const [balances] = await db.query(
          `SELECT sum(posted)::text AS posted, sum(held)::text AS held
             FROM accounts WHERE tenant_id = $1 AND kind = 'customer'`,
          [shop.tenantId],
        );
        assert.deepEqual(balances, { posted: String(4 * FUNDING - 7 * sold), held: '0' });
      },
    });
  });

  it("the worker's clock stepped forward an hour under load: expiries keep the database's time", async () => {
    const clock = path.join(os.tmpdir(), `tally-clock-${process.pid}`);
    let shop: Awaited<ReturnType<typeof openShop>>;
    let holdId = '';
    let lagBefore = 0;
    try {
      await suite.run({
        name: 'worker clock +1 h',
        setup: async ({ stack }) => {
          writeFileSync(clock, '+0\n');
          // libfaketime steps the wall clock only, as an NTP step would; timers keep their pace.
          await suite.restart(WORKER, {
            LD_PRELOAD: LIBFAKETIME,
            FAKETIME_TIMESTAMP_FILE: clock,
            FAKETIME_NO_CACHE: '1',
            FAKETIME_DONT_FAKE_MONOTONIC: '1',
            HOLD_SWEEP_INTERVAL_MS: '200',
            ORDER_SWEEP_INTERVAL_MS: '200',
          });
          shop = await openShop(stack.url('gateway'), 1, 1_000, 10);
          const hold = await shop.api.post(
            '/v1/holds',
            { accountId: shop.accounts[0], amount: 100, currency: 'USD', expiresInSeconds: 1_800 },
            { 'idempotency-key': KEY() },
          );
          assert.equal(hold.status, 201, hold.text);
          holdId = hold.body.id;
          lagBefore = await metricSum(stack.url(WORKER), 'tally_outbox_publish_lag_seconds_sum');
        },
        inject: async () => {
          writeFileSync(clock, '+1h\n');
          // Load on, and a good many sweeps, with the worker an hour ahead of everyone else.
          await sleep(4_000);
          return Date.now();
        },
        check: async ({ stack }) => {
          // The worker's own clock did move: what it relayed looks an hour late to it.
          const lag = await metricSum(stack.url(WORKER), 'tally_outbox_publish_lag_seconds_sum');
          assert.ok(
            lag - lagBefore > 3_000,
            `the worker's clock was stepped (lag sum +${lag - lagBefore} s)`,
          );
          // The hold runs 30 minutes by the database's clock: the worker's sweep, an hour ahead,
          // must not have expired it.
          const hold = await shop.api.get(`/v1/holds/${holdId}`);
          assert.equal(hold.status, 200, hold.text);
          assert.equal(hold.body.status, 'active');
          const account = await shop.api.get(`/v1/accounts/${shop.accounts[0]}`);
          assert.equal(String(account.body.balance.held), '100', account.text);
        },
      });
    } finally {
      rmSync(clock, { force: true });
    }
  });

  it('the payment provider down for 30 s under load: the breaker opens, withdrawals still taken, all paid once after', async () => {
    const OUTAGE_MS = 30_000;
    let opened: { gauge: number; ready: string } | undefined;
    let during = { accepted: 0, queued: 0 };
    await suite.run({
      name: 'payment provider down 30 s',
      load: { withdrawals: WITHDRAWALS },
      payouts: true,
      inject: async (ctx) => {
        const refusedBefore = ctx.load.stats.unavailable + ctx.load.stats.networkErrors;
        const acceptedBefore = withdrawalsAccepted(ctx);
        const down = Date.now();
        // Connections refused, those open dropped: the provider is gone.
        suite.providerProxy.cut();
        try {
          opened = await waitFor(
            'the payout breaker to open',
            async () => {
              const state = await breaker(ctx);
              return state.gauge === 2 ? state : false;
            },
            OUTAGE_MS,
            100,
          );
          await sleep(Math.max(0, down + OUTAGE_MS - Date.now()));
          during = {
            accepted: withdrawalsAccepted(ctx) - acceptedBefore,
            queued: (await payoutsIn(ctx, 'queued')).length,
          };
          assert.equal(
            ctx.load.stats.unavailable + ctx.load.stats.networkErrors,
            refusedBefore,
            'every request was accepted while the provider was down',
          );
        } finally {
          suite.providerProxy.restore();
        }
        return Date.now();
      },
      check: async (ctx) => {
        assert.deepEqual(
          opened,
          { gauge: 2, ready: '200 degraded' },
          'the breaker opened; the worker stayed ready',
        );
        assert.ok(during.accepted > 0, 'withdrawals were accepted (202) during the outage');
        assert.ok(during.queued > 0, 'their payouts waited, queued, for the provider');
        // Everything drained, so payouts went through: the breaker closed again.
        assert.deepEqual(await breaker(ctx), { gauge: 0, ready: '200 up' }, 'the breaker closed');
      },
    });
  });

  it('the payment provider answering 5xx to a random third of calls: every payout paid once', async () => {
    let retried = 0;
    await suite.run({
      name: 'payment provider 5xx for 1/3',
      load: { withdrawals: WITHDRAWALS },
      payouts: true,
      inject: async (ctx) => {
        suite.provider.setBehaviour({ errorRate: 1 / 3 });
        try {
          await sleep(10_000);
        } finally {
          suite.provider.setBehaviour({ errorRate: 0 });
        }
        retried = await metricSum(ctx.stack.url(WORKER), 'tally_payout_attempts_total', 'outcome="retrying"');
        return Date.now();
      },
      check: async () => {
        assert.ok(retried > 0, 'payouts met 5xx answers and were sent again');
      },
    });
  });

  it('kill -9 of the worker after the provider took a payout, before recording it: paid once, recorded once', async () => {
    let inDoubt: string[] = [];
    await suite.run({
      name: 'worker killed after payout call',
      load: { withdrawals: WITHDRAWALS },
      payouts: true,
      setup: async () => {
        // No webhooks: a payout the worker died over can only be settled by sending it again.
        suite.provider.setBehaviour({ webhooks: false });
        await suite.restart(WORKER, suite.payoutEnv({ TALLY_FAULTS: 'payout.after-provider-call:after=15' }));
      },
      inject: async (ctx) => {
        await diedAtFaultPoint(ctx.stack, WORKER);
        // Taken by the provider, its answer never recorded: the worker died in between.
        const taken = suite.provider.stats().byKey;
        inDoubt = (await payoutsIn(ctx, 'queued')).filter((id) => taken[id]?.payouts === 1);
        await sleep(1_000);
        await suite.restart(WORKER, suite.payoutEnv());
        return Date.now();
      },
      check: async ({ db }) => {
        assert.ok(inDoubt.length > 0, 'the provider had paid a payout the worker had not recorded');
        // Each ended succeeded with one posting and one outcome event (the run's checks), and:
        const rows: { id: string; status: string }[] = await db.query(
          `SELECT transaction_id AS id, status FROM payouts WHERE transaction_id = ANY($1)`,
          [inDoubt],
        );
        assert.deepEqual(
          rows.filter((r) => r.status !== 'succeeded'),
          [],
          'each payout in doubt is recorded paid',
        );
        const byKey = suite.provider.stats().byKey;
        for (const id of inDoubt) {
          assert.ok(byKey[id].calls >= 2, `${id} was sent again after the worker died`);
          assert.equal(byKey[id].payouts, 1, `${id} paid once`);
        }
      },
    });
  });
});
