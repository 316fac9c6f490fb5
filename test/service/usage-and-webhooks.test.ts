import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { MessageTypes, parseJson, tallyEvent, type TallyEvent, type UsageRecorded } from '#domain';
import { Events, PermanentMessageError, ValidPayload } from '#messaging';
import { MeterRepository, UsageRepository, WebhookRepository } from '#persistence';
import { capturedStatements, planNodes } from '#test-support';
import { EventsHandler } from '../../apps/notification/src/webhooks/events.handler.js';
import {
  UsageOutcomesMessage,
  usageOutcomesOf,
} from '../../apps/notification/src/webhooks/tally-event.message.js';
import { IngestUsage } from '../../apps/gateway/src/usage/ingest-usage.use-case.js';
import { UsageCommandsHandler } from '../../apps/transaction-worker/src/usage/usage-commands.handler.js';
import { UseCases, messageContext } from '../support/use-cases.js';

/**
 * Usage from the gateway's IngestUsage to the worker's usage handler (ProcessUsage), and webhook
 * deliveries from the notification app's events handler to their schedule — through the apps'
 * providers on the real database, each test on a tenant of its own.
 */
describe('usage and webhook delivery use cases on PostgreSQL', () => {
  let uc: UseCases;

  beforeAll(async () => {
    uc = await UseCases.open();
  });
  afterAll(() => uc?.close());

  const ingest = (
    tenant: { tenantId: string; keyId: string },
    events: { id: string; accountId: string | null }[],
  ) =>
    uc.db.transaction((m) =>
      uc.gateway.get(IngestUsage).execute(
        m,
        { tenantId: tenant.tenantId, apiKeyId: tenant.keyId },
        events.map((event, index) => ({ index, event: { ...event, type: 'api_call' } })),
        [],
        null,
      ),
    );
  /** This tenant's outbox rows, oldest first; `payload` as stored, `text` as the relay publishes it. */
  const outbox = async <P>(
    tenantId: string,
  ): Promise<{ exchange: string; routingKey: string; messageId: string; payload: P; text: string }[]> =>
    uc.db.query(
      `SELECT exchange, routing_key AS "routingKey", message_id AS "messageId", payload, payload::text AS text
         FROM outbox WHERE payload->>'tenantId' = $1 ORDER BY id`,
      [tenantId],
    );
  /** The usage.recorded commands the gateway wrote to its outbox for this tenant. */
  const commands = async (tenantId: string) =>
    (await outbox<UsageRecorded>(tenantId))
      .filter((r) => r.routingKey === MessageTypes.usageRecorded)
      .map((r) => r.payload);
  const process = (command: UsageRecorded, messageId?: string) =>
    uc.worker
      .get(UsageCommandsHandler)
      .onUsageRecorded(command, messageContext(MessageTypes.usageRecorded, 'transaction-worker', messageId));
  const charged = async (account: string) => {
    const [row] = await uc.db.query(
      `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::int AS total FROM transactions
        WHERE source_account_id = $1 AND type = 'charge' AND status = 'succeeded'`,
      [account],
    );
    return row as { n: number; total: number };
  };

  /** A meter pricing each `api_call` event at `unitPrice` USD minor units. */
  const apiCallMeter = (tenantId: string, unitPrice: bigint) =>
    uc.db.transaction((m) =>
      uc.gateway.get(MeterRepository).create(m, {
        tenantId,
        eventType: 'api_call',
        aggregation: 'count',
        property: null,
        unitPrice,
        currency: 'USD',
      }),
    );
  /** A new tenant with one wallet holding `deposit`, and its `api_call` events priced at `unitPrice`. */
  const meteredWallet = async (deposit: bigint, unitPrice: bigint) => {
    const tenant = await uc.tenantWithAccounts(1);
    const [wallet] = tenant.accounts;
    await uc.transact(tenant.tenantId, {
      type: 'deposit',
      destinationAccountId: wallet,
      amount: deposit,
      currency: 'USD',
    });
    await apiCallMeter(tenant.tenantId, unitPrice);
    return { tenant, wallet };
  };
  const endpoint = (tenantId: string, eventTypes: string[]) =>
    uc.db.transaction((m) =>
      uc.notification.get(WebhookRepository).createEndpoint(m, {
        tenantId,
        url: 'https://example.com/hook',
        description: null,
        eventTypes,
        secret: 'whsec_c2VydmljZS10aWVyLXRlc3Qtc2VjcmV0',
      }),
    );
  const deliveries = async (tenantId: string) =>
    uc.db.query(
      `SELECT id, endpoint_id AS "endpointId", event_id AS "eventId", status FROM webhook_deliveries
        WHERE tenant_id = $1 ORDER BY seq`,
      [tenantId],
    );
  const notify = (event: TallyEvent<object>, messageId?: string) =>
    uc.notification
      .get(EventsHandler)
      .onEvent(event as TallyEvent, messageContext(event.type, 'notification', messageId));
  describe('usage', () => {
    it('each accepted event is charged once at its meter price; a duplicate id, a redelivery and a copy charge nothing', async () => {
      const { tenant, wallet } = await meteredWallet(100n, 5n);
      const first = await ingest(tenant, [
        { id: 'u-1', accountId: wallet },
        { id: 'u-2', accountId: wallet },
      ]);
      const again = await ingest(tenant, [
        { id: 'u-2', accountId: wallet },
        { id: 'u-3', accountId: wallet },
      ]);
      assert.deepEqual([first.accepted, again.accepted, again.duplicates], [2, 1, 1]);
      const recorded = await commands(tenant.tenantId);
      assert.deepEqual(
        recorded.map((c) => c.eventIds.length),
        [2, 1],
      );
      for (const [i, command] of recorded.entries()) await process(command, `usage-${tenant.tenantId}-${i}`);
      assert.deepEqual(await charged(wallet), { n: 3, total: 15 });
      const [{ posted }] = await uc.db.query(`SELECT posted::int AS posted FROM accounts WHERE id = $1`, [
        wallet,
      ]);
      assert.equal(posted, 85);

      await process(recorded[0], `usage-${tenant.tenantId}-0`); // redelivered: the inbox has it
      await process(recorded[0]); // the same events under a new message: already processed
      assert.deepEqual(await charged(wallet), { n: 3, total: 15 });
    });

    it('the same events claimed by two workers at once are charged once; a failed one is failed once', async () => {
      const { tenant, wallet } = await meteredWallet(1000n, 7n);
      const ids = Array.from({ length: 40 }, (_, i) => ({ id: `race-${i}`, accountId: wallet }));
      // One without an account: a metered event needs one, so it fails its checks.
      await ingest(tenant, [...ids, { id: 'race-lost', accountId: null }]);
      const [command] = await commands(tenant.tenantId);
      // Different message ids: the inbox lets both through, only the claim keeps them apart.
      await Promise.all([process(command), process(command), process(command)]);
      assert.deepEqual(await charged(wallet), { n: 40, total: 280 });
      const rows = await uc.db.query(
        `SELECT e.status, count(*)::int AS n, count(p.event_id)::int AS processed, count(f.event_id)::int AS failed
           FROM usage_events e
           LEFT JOIN usage_processed p ON p.tenant_id = e.tenant_id AND p.event_id = e.id
           LEFT JOIN usage_failed f ON f.tenant_id = e.tenant_id AND f.event_id = e.id
          WHERE e.tenant_id = $1 GROUP BY e.status ORDER BY e.status`,
        [tenant.tenantId],
      );
      assert.deepEqual(rows, [
        { status: 'failed', n: 1, processed: 0, failed: 1 },
        { status: 'processed', n: 40, processed: 40, failed: 0 },
      ]);
    });

    it('a claim that waits for another finds nothing left when that one commits, and everything when it rolls back', async () => {
      const tenant = await uc.tenantWithAccounts(0);
      const repository = uc.worker.get(UsageRepository);
      /** Resolves once a claim in this database waits for a row lock. */
      const blocked = async () => {
        for (;;) {
          const [{ n }] = await uc.db.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'
                AND query LIKE 'UPDATE usage_events SET status%'`,
          );
          if (n > 0) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      /** Claims `ids` (and fails the last) while a second claim of them waits; then ends the first. */
      const claimWhileHeld = async (ids: string[], end: 'commit' | 'rollback') => {
        await ingest(
          tenant,
          ids.map((id) => ({ id, accountId: null })),
        );
        let waiting!: Promise<string[]>;
        const first = await uc.db
          .transaction(async (m) => {
            const mine = await repository.claimReceived(m, tenant.tenantId, ids);
            await repository.markFailed(m, tenant.tenantId, [
              {
                tenantId: tenant.tenantId,
                eventId: ids[2],
                code: 'account_required',
                reason: 'test',
                workerId: 'w1',
              },
            ]);
            waiting = uc.db.transaction((m2) =>
              repository.claimReceived(m2, tenant.tenantId, ids).then((rows) => rows.map((e) => e.id)),
            );
            await blocked();
            if (end === 'rollback') throw new Error('rolled back');
            return mine.map((e) => e.id);
          })
          .catch((error: Error) => error.message);
        const second = (await waiting).sort();
        const rows: { id: string; status: string }[] = await uc.db.query(
          `SELECT id, status FROM usage_events WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id`,
          [tenant.tenantId, ids],
        );
        return { first, second, statuses: rows.map((r) => r.status) };
      };
      // Rolled back, the rows never changed: the waiting claim takes all three.
      assert.deepEqual(await claimWhileHeld(['back-1', 'back-2', 'back-3'], 'rollback'), {
        first: 'rolled back',
        second: ['back-1', 'back-2', 'back-3'],
        statuses: ['processed', 'processed', 'processed'],
      });
      // Committed, they are processed or failed: the waiting claim takes none, so none is charged twice.
      assert.deepEqual(await claimWhileHeld(['held-1', 'held-2', 'held-3'], 'commit'), {
        first: ['held-1', 'held-2', 'held-3'],
        second: [],
        statuses: ['processed', 'processed', 'failed'],
      });
    });

    it('a claim finds its events by primary key, not by the pending-event indexes the statistics favour', async () => {
      const tenant = await uc.tenantWithAccounts(0);
      const batch = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, accountId: null }));
      // Mostly processed events, a few pending, statistics that say so: the planner's favourite
      // path to "pending" is then the partial indexes, which hold every processed event's old entry.
      // (The old statement's plan here used usage_events_open_list_idx, but only by the planner's
      // costs; what this asserts is the new statement's shape, which leaves it no other path.)
      await ingest(tenant, batch('done', 1500));
      await uc.db.query(`UPDATE usage_events SET status = 'processed' WHERE tenant_id = $1`, [
        tenant.tenantId,
      ]);
      await ingest(tenant, batch('pending', 200));
      const pending = batch('pending', 200).map((e) => e.id);
      await uc.db.query('ANALYZE usage_events');
      // The statement the worker sends, captured instead of run, then planned with its parameters.
      const sent = await capturedStatements(
        (m) => uc.worker.get(UsageRepository).claimReceived(m, tenant.tenantId, pending),
        [[], 0],
      );
      assert.equal(sent.length, 1);
      const nodes = await planNodes(uc.db, sent[0]);
      const indexes = [...new Set(nodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : [])))];
      assert.deepEqual(indexes, ['usage_events_pkey']);
      assert.ok(
        nodes.some((n) => n['Node Type'] === 'Tid Scan' && n['Relation Name'] === 'usage_events'),
        JSON.stringify(nodes.map((n) => n['Node Type'])),
      );
      // And run, it claims exactly the pending events.
      const claimed = await uc.db.transaction((m) =>
        uc.worker.get(UsageRepository).claimReceived(m, tenant.tenantId, [...pending, 'done-1', 'nowhere']),
      );
      assert.deepEqual(claimed.map((e) => e.id).sort(), [...pending].sort());
    });
  });

  describe('webhook deliveries', () => {
    /** This tenant's deliveries that a sender could lease now (others' are released again). */
    const leaseable = async (tenantId: string) => {
      const leased = await uc.notification.get(WebhookRepository).leaseDue(uc.db, 1000, 60_000, 600_000);
      await uc.db.query(`UPDATE webhook_deliveries SET lease_until = NULL WHERE id = ANY($1)`, [
        leased.map((l) => l.delivery.id),
      ]);
      return leased.filter((l) => l.delivery.tenantId === tenantId).map((l) => l.delivery);
    };

    it('one delivery per subscribed endpoint and event; the event again adds none', async () => {
      const { tenantId, accounts } = await uc.tenantWithAccounts(1);
      const all = await endpoint(tenantId, []);
      const succeededOnly = await endpoint(tenantId, [MessageTypes.transactionSucceeded]);
      await endpoint(tenantId, [MessageTypes.holdCreated]);
      const event = tallyEvent(MessageTypes.transactionSucceeded, tenantId, {
        id: 'txn_x',
        sourceAccountId: accounts[0],
      });
      await notify(event, `n-${event.id}`);
      await notify(event, `n-${event.id}`); // redelivered
      await notify(event); // the same event as a new message
      const made = await deliveries(tenantId);
      assert.deepEqual(
        made.map((d: { endpointId: string }) => d.endpointId).sort(),
        [all.id, succeededOnly.id].sort(),
      );
    });

    it('deliveries about one account go out in order: the next waits for the one before, and for its retry time', async () => {
      const { tenantId, accounts } = await uc.tenantWithAccounts(1);
      await endpoint(tenantId, []);
      const events = [1, 2].map((n) =>
        tallyEvent(MessageTypes.transactionSucceeded, tenantId, {
          id: `txn_${n}`,
          destinationAccountId: accounts[0],
        }),
      );
      for (const event of events) await notify(event);
      const [first, second] = await deliveries(tenantId);
      assert.deepEqual(
        (await leaseable(tenantId)).map((d) => d.id),
        [first.id],
        'only the first of the account',
      );
      const repository = uc.notification.get(WebhookRepository);
      const [leased] = (await repository.leaseDue(uc.db, 1000, 60_000, 600_000)).filter(
        (l) => l.delivery.id === first.id,
      );
      assert.ok(leased, 'the first is leased by this sender');
      // It fails and is due again in an hour: the second still waits behind it.
      await repository.recordAttempt(
        uc.db,
        leased.delivery,
        { attempt: 1, statusCode: 503, latencyMs: 5, responseSnippet: null, error: null },
        { status: 'pending', retryAt: new Date(Date.now() + 3600_000) },
      );
      assert.deepEqual(
        await leaseable(tenantId),
        [],
        'neither: the first is not due, the second waits for it',
      );
      await uc.db.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = $1`, [first.id]);
      const [retry] = (await repository.leaseDue(uc.db, 1000, 60_000, 600_000)).filter(
        (l) => l.delivery.id === first.id,
      );
      await repository.recordAttempt(
        uc.db,
        retry.delivery,
        { attempt: 2, statusCode: 200, latencyMs: 5, responseSnippet: null, error: null },
        { status: 'succeeded' },
      );
      assert.deepEqual(
        (await leaseable(tenantId)).map((d) => d.id),
        [second.id],
        'the second, once the first is through',
      );
    });
  });
  describe('usage outcomes, one message per batch', () => {
    /** This tenant's events in the outbox (its commands left out). */
    const outcomeMessages = async (tenantId: string) =>
      (await outbox<UsageOutcomesMessage>(tenantId)).filter((r) => r.exchange === 'tally.events');
    const notifyOutcomes = (message: UsageOutcomesMessage, messageId?: string) =>
      uc.notification
        .get(EventsHandler)
        .onUsageOutcomes(message, messageContext(MessageTypes.usageOutcomes, 'notification', messageId));
    const cursor = async (accountId: string) => {
      const [row] = await uc.db.query(
        `SELECT contiguous::int AS contiguous, cardinality(ahead) AS ahead FROM webhook_account_cursors
          WHERE account_id = $1`,
        [accountId],
      );
      return row as { contiguous: number; ahead: number } | undefined;
    };

    it("a batch's charges and failures are one message; each event gets its deliveries, in its account's order, once", async () => {
      const tenant = await uc.tenantWithAccounts(2);
      const [a, b] = tenant.accounts;
      await uc.transact(tenant.tenantId, {
        type: 'deposit',
        destinationAccountId: a,
        amount: 10n,
        currency: 'USD',
      });
      await uc.transact(tenant.tenantId, {
        type: 'deposit',
        destinationAccountId: b,
        amount: 50n,
        currency: 'USD',
      });
      await apiCallMeter(tenant.tenantId, 5n);
      const all = await endpoint(tenant.tenantId, []);
      const chargedOnly = await endpoint(tenant.tenantId, [MessageTypes.usageCharged]);
      const before = await outcomeMessages(tenant.tenantId);
      // a can pay for two of its three events; b for both of its.
      await ingest(tenant, [
        { id: 'o-1', accountId: a },
        { id: 'o-2', accountId: b },
        { id: 'o-3', accountId: a },
        { id: 'o-4', accountId: b },
        { id: 'o-5', accountId: a },
      ]);
      const [command] = await commands(tenant.tenantId);
      await process(command);

      const written = (await outcomeMessages(tenant.tenantId)).slice(before.length);
      assert.deepEqual(
        written.map((m) => m.routingKey),
        [MessageTypes.usageOutcomes],
        'one message for the batch, none per event',
      );
      const [message] = written;
      assert.equal(message.messageId, message.payload.id);
      const outcomes = usageOutcomesOf(message.payload);
      assert.deepEqual(
        outcomes.map((o) => [o.event.type, (o.event.data as { eventId: string }).eventId]),
        [
          [MessageTypes.usageCharged, 'o-1'],
          [MessageTypes.usageCharged, 'o-2'],
          [MessageTypes.usageCharged, 'o-3'],
          [MessageTypes.usageCharged, 'o-4'],
          [MessageTypes.usageChargeFailed, 'o-5'],
        ],
      );
      // Numbered per account under the wallets' locks, after the two deposits' events.
      assert.deepEqual(
        outcomes.map((o) => Number(o.event.accountSeq)),
        [2, 2, 3, 3, 4],
      );

      await notifyOutcomes(message.payload, message.messageId);
      await notifyOutcomes(message.payload, message.messageId); // redelivered: the inbox has it
      await notifyOutcomes(message.payload); // the same events as a new message: nothing new
      const made: { endpointId: string; eventId: string }[] = await deliveries(tenant.tenantId);
      const ids = new Set(outcomes.map((o) => o.event.id));
      const forAll = made.filter((d) => d.endpointId === all.id).map((d) => d.eventId);
      const forCharged = made.filter((d) => d.endpointId === chargedOnly.id).map((d) => d.eventId);
      assert.deepEqual(new Set(forAll), ids);
      assert.equal(forAll.length, 5);
      assert.deepEqual(
        forCharged,
        outcomes.filter((o) => o.event.type === MessageTypes.usageCharged).map((o) => o.event.id),
      );
      const [{ n, seqs }] = await uc.db.query(
        `SELECT count(*)::int AS n, array_agg(account_seq::int ORDER BY seq) AS seqs FROM webhook_deliveries
          WHERE tenant_id = $1 AND endpoint_id = $2 AND event_id = ANY($3)`,
        [tenant.tenantId, all.id, [...ids]],
      );
      assert.equal(n, 5);
      assert.deepEqual(seqs, [2, 2, 3, 3, 4], "each delivery carries its event's number in its account");
      // The deposits' events never reached the notification app here: 1 is a gap, 2.. are ahead of it.
      assert.deepEqual(await cursor(a), { contiguous: 0, ahead: 3 });
      assert.deepEqual(await cursor(b), { contiguous: 0, ahead: 2 });
    });

    it("numbers past 2^53 reach the deliveries exact, through the relay's text, the transport's parser and the pipe", async () => {
      const { tenant, wallet } = await meteredWallet(100n, 5n);
      await endpoint(tenant.tenantId, []);
      // The wallet's next events are numbered 2^53 + 3 and 2^53 + 4: the first is no JS number.
      await uc.db.query(`UPDATE accounts SET event_seq = 9007199254740994 WHERE id = $1`, [wallet]);
      await ingest(tenant, [
        { id: 'big-1', accountId: wallet },
        { id: 'big-2', accountId: wallet },
      ]);
      const [command] = await commands(tenant.tenantId);
      await process(command);
      const [message] = (await outcomeMessages(tenant.tenantId)).filter(
        (m) => m.routingKey === MessageTypes.usageOutcomes,
      );
      const pipe = new ValidPayload(UsageOutcomesMessage, 'malformed_event');
      await notifyOutcomes(pipe.transform(parseJson(message.text)), message.messageId);
      const seqs: { seq: string }[] = await uc.db.query(
        `SELECT account_seq::text AS seq FROM webhook_deliveries WHERE tenant_id = $1 ORDER BY account_seq`,
        [tenant.tenantId],
      );
      assert.deepEqual(
        seqs.map((r) => r.seq),
        ['9007199254740995', '9007199254740996'],
      );
      // The pipe checks the message itself: its type, and that it names a tenant.
      for (const broken of [
        { ...message.payload, type: MessageTypes.usageCharged },
        { ...message.payload, tenantId: '' },
      ]) {
        assert.throws(() => pipe.transform(broken), PermanentMessageError);
      }
    });

    it('a malformed batch is refused whole: nothing is noted or delivered', async () => {
      const tenant = await uc.tenantWithAccounts(1);
      const other = await uc.tenantWithAccounts(1);
      await endpoint(tenant.tenantId, []);
      const charge = (tenantId: string, accountId: string) =>
        Events.usageCharged(tenantId, {
          eventId: 'm-1',
          type: 'api_call',
          accountId,
          meterId: null,
          quantity: 1n,
          amount: 5n,
          currency: 'USD',
          transactionId: 'txn_m',
        });
      const mine = { ...charge(tenant.tenantId, tenant.accounts[0]), accountSeq: 1 };
      const cases: [string, UsageOutcomesMessage][] = [
        ['empty', Events.usageOutcomes(tenant.tenantId, []) as UsageOutcomesMessage],
        [
          "another tenant's event",
          Events.usageOutcomes(tenant.tenantId, [
            { event: mine, correlationId: null },
            { event: { ...charge(other.tenantId, other.accounts[0]), accountSeq: 1 }, correlationId: null },
          ]) as UsageOutcomesMessage,
        ],
        [
          'not a usage outcome',
          Events.usageOutcomes(tenant.tenantId, [
            { event: mine, correlationId: null },
            { event: { ...mine, id: 'evt_x', type: MessageTypes.transactionSucceeded }, correlationId: null },
          ]) as UsageOutcomesMessage,
        ],
        [
          'an event without an id',
          Events.usageOutcomes(tenant.tenantId, [
            { event: mine, correlationId: null },
            { event: { ...mine, id: '' }, correlationId: null },
          ]) as UsageOutcomesMessage,
        ],
      ];
      for (const [name, message] of cases) {
        await assert.rejects(notifyOutcomes(message), PermanentMessageError, name);
      }
      assert.deepEqual(await deliveries(tenant.tenantId), []);
      assert.equal(await cursor(tenant.accounts[0]), undefined);
    });
  });
});
