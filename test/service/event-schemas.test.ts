import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { MessageTypes, type UsageRecorded } from '#domain';
import { Metrics } from '#observability';
import { EventTypeRepository, MeterRepository } from '#persistence';
import { IngestUsage } from '../../apps/gateway/src/usage/ingest-usage.use-case.js';
import { EventSchemas } from '../../apps/transaction-worker/src/usage/event-schemas.js';
import { UsageCommandsHandler } from '../../apps/transaction-worker/src/usage/usage-commands.handler.js';
import { UseCases, messageContext } from '../support/use-cases.js';

/**
 * Where the worker decides about event type schemas: ProcessUsage through the usage handler, and
 * the cache of compiled schemas shared by nothing but the database — each test on a tenant of its own.
 */
describe('event type schemas in the worker (PostgreSQL)', () => {
  let uc: UseCases;

  beforeAll(async () => {
    uc = await UseCases.open();
  });
  afterAll(() => uc?.close());

  const register = (tenantId: string, type: string, schema: object) =>
    uc.db.transaction((m) =>
      uc.gateway.get(EventTypeRepository).create(m, tenantId, type, JSON.stringify(schema)),
    );
  const ingest = (
    tenant: { tenantId: string; keyId: string },
    events: { id: string; type: string; accountId?: string; properties?: Record<string, unknown> }[],
  ) =>
    uc.db.transaction((m) =>
      uc.gateway.get(IngestUsage).execute(
        m,
        { tenantId: tenant.tenantId, apiKeyId: tenant.keyId },
        events.map((event, index) => ({ index, event })),
        [],
        null,
      ),
    );
  const processAll = async (tenantId: string) => {
    const recorded: { payload: UsageRecorded }[] = await uc.db.query(
      `SELECT payload FROM outbox WHERE routing_key = $1 AND payload->>'tenantId' = $2 ORDER BY id`,
      [MessageTypes.usageRecorded, tenantId],
    );
    for (const { payload } of recorded) {
      await uc.worker
        .get(UsageCommandsHandler)
        .onUsageRecorded(payload, messageContext(MessageTypes.usageRecorded, 'transaction-worker'));
    }
  };
  const counted = async (type: string, outcome: string) =>
    (await uc.worker.get(Metrics).usageEventsProcessed.get()).values.find(
      (v) => v.labels.type === type && v.labels.outcome === outcome,
    )?.value ?? 0;

  it('a violation fails the event schema_violation before any other rule, uncharged; valid ones are charged', async () => {
    const tenant = await uc.tenantWithAccounts(1);
    const [wallet] = tenant.accounts;
    await uc.transact(tenant.tenantId, {
      type: 'deposit',
      destinationAccountId: wallet,
      amount: 100n,
      currency: 'USD',
    });
    const type = `svc.metered.${tenant.tenantId}`;
    await uc.db.transaction((m) =>
      uc.gateway.get(MeterRepository).create(m, {
        tenantId: tenant.tenantId,
        eventType: type,
        aggregation: 'count',
        property: null,
        unitPrice: 7n,
        currency: 'USD',
      }),
    );
    await register(tenant.tenantId, type, { type: 'object', required: ['region'] });
    const before = { processed: await counted(type, 'processed'), failed: await counted(type, 'failed') };

    // 'no-account' breaks the schema and the meter's rule (an account to bill): the schema speaks first.
    await ingest(tenant, [
      { id: 'ok', type, accountId: wallet, properties: { region: 'eu' } },
      { id: 'bad', type, accountId: wallet, properties: {} },
      { id: 'no-account', type, properties: {} },
    ]);
    await processAll(tenant.tenantId);

    const rows: { id: string; status: string; code: string | null; reason: string | null }[] =
      await uc.db.query(
        `SELECT e.id, e.status, f.code, f.reason FROM usage_events e
         LEFT JOIN usage_failed f ON f.tenant_id = e.tenant_id AND f.event_id = e.id
        WHERE e.tenant_id = $1 ORDER BY e.id`,
        [tenant.tenantId],
      );
    assert.deepEqual(
      rows.map((r) => [r.id, r.status, r.code]),
      [
        ['bad', 'failed', 'schema_violation'],
        ['no-account', 'failed', 'schema_violation'],
        ['ok', 'processed', null],
      ],
    );
    assert.equal(rows[0].reason, "properties must have required property 'region'");
    const [{ n, total }] = await uc.db.query(
      `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::int AS total FROM transactions
        WHERE source_account_id = $1 AND type = 'charge'`,
      [wallet],
    );
    assert.deepEqual([n, total], [1, 7]);
    assert.equal((await counted(type, 'processed')) - before.processed, 1);
    assert.equal((await counted(type, 'failed')) - before.failed, 2);
  });

  it('compiled schemas are cached per revision: a change or a delete reaches every process at its next batch', async () => {
    const tenant = await uc.tenantWithAccounts(0);
    const repo = uc.worker.get(EventTypeRepository);
    const here = uc.worker.get(EventSchemas);
    const elsewhere = new EventSchemas(repo); // another worker process
    const type = 'svc.cached';
    const check = async (schemas: EventSchemas, properties: object) => {
      const validators = await schemas.validatorsFor(uc.db.manager, tenant.tenantId, [type, 'unregistered']);
      assert.deepEqual(
        [...validators.keys()].filter((t) => t === 'unregistered'),
        [],
      );
      const validate = validators.get(type);
      return validate ? validate(properties) : 'no schema';
    };

    await register(tenant.tenantId, type, {
      type: 'object',
      properties: { n: { type: 'integer', maximum: 5 } },
    });
    assert.deepEqual(await check(here, { n: 9 }), ['properties/n must be <= 5']);
    assert.deepEqual(await check(elsewhere, { n: 9 }), ['properties/n must be <= 5']);
    assert.equal(await check(here, { n: 1 }), null);

    await uc.db.transaction((m) =>
      repo.replace(
        m,
        tenant.tenantId,
        type,
        JSON.stringify({ type: 'object', properties: { n: { maximum: 50 } } }),
      ),
    );
    assert.equal(await check(here, { n: 9 }), null);
    assert.equal(await check(elsewhere, { n: 9 }), null);

    await uc.db.transaction((m) => repo.remove(m, tenant.tenantId, type));
    assert.equal(await check(elsewhere, { n: 999 }), 'no schema');
    // Registered again, with the same first version number: a new revision all the same.
    await register(tenant.tenantId, type, { type: 'object', properties: { n: { maximum: 0 } } });
    assert.deepEqual(await check(here, { n: 9 }), ['properties/n must be <= 0']);
  });
});
