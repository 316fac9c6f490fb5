/**
 * The fault-injection suite (`npm run test:faults`): each scenario runs the four apps under live
 * load, injects one fault, clears it, waits until everything has drained and then checks the
 * guarantees — no accepted transaction lost, none applied twice, balances equal to what was
 * accepted, `ledger:verify` clean, every outbox row published, every queue empty and every dead
 * letter the expected one. It stops and restarts the shared PostgreSQL and RabbitMQ, so it holds
 * the machine-wide services lock exclusively while it runs (and runs last in `npm test`).
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { Exchanges } from '#messaging';
import { ServicesLock, releaseRunSharedLock, testSettings, type AppName } from '#test-support';
import { restartPostgres, startBroker, stopBroker } from './services.js';
import { FaultStack, counter, diedAtFaultPoint, formatTable, type ScenarioContext } from './scenario.js';

const WORKER = 'transaction-worker';

/** Messages the running consumers found already handled (inbox): proof that copies reached them. */
const duplicatesSeen = async (
  { stack }: ScenarioContext,
  apps: AppName[] = [WORKER, 'notification'],
): Promise<number> => {
  let sum = 0;
  for (const app of apps) {
    sum += await counter(stack.url(app), 'tally_messages_consumed_total', { outcome: 'duplicate' });
  }
  return sum;
};

const unpublished = async ({ db }: ScenarioContext): Promise<number> =>
  (await db.query(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`))[0].n;

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
});
