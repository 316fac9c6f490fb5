/**
 * Two tenant cells on this machine (docs/scaling.md, "Tenant cells"): each cell its own database
 * and broker prefix with its own gateway, worker and admin; one tenant → cell directory; the edge
 * router in front. Each tenant's traffic lands in its own cell only, each cell passes the fault
 * suite's checks and `ledger:verify` on its own, and one cell down is only its tenants' outage.
 */
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateApiKey, hashApiKey, newId } from '#domain';
import {
  CellDirectory,
  TenantInOtherCellError,
  dropDatabase,
  migrateDatabase,
  migrateDirectory,
} from '#persistence';
import {
  Api,
  AppProcess,
  Stack,
  distPath,
  openDataSource,
  send,
  separateDatabase,
  signIn,
  tallyCli,
  waitFinal,
  waitFor,
  type AppName,
} from '#test-support';
import { startCellRouter, type CellRouter } from '../../tools/cell-router/src/router.js';
import { checkTenant } from '../faults/scenario.js';
import { LoadGenerator } from '../faults/load.js';

type CellName = 'a' | 'b';
const CELLS: CellName[] = ['a', 'b'];
const APPS: AppName[] = ['gateway', 'transaction-worker', 'admin'];
const ADMIN = { email: 'cells-admin@tally.test', password: 'cells-admin-password' };
const CUSTOMER_TOKEN_SECRET = 'customer-token-secret-for-cell-tests-0123456789';

interface Cell {
  name: CellName;
  db: { ownerUrl: string; appUrl: string };
  stack: Stack;
  tenantId: string;
  apiKey: string;
}

describe('two tenant cells behind the edge router', () => {
  const directoryDb = separateDatabase('directory');
  const cells = new Map<CellName, Cell>();
  const gateways = new Map<string, URL>();
  let directory: CellDirectory;
  let router: CellRouter;
  const api = (cell: CellName) => new Api(router.url, cells.get(cell)!.apiKey);

  beforeAll(async () => {
    directory = CellDirectory.open(directoryDb.appUrl, 'cells-test');
    for (const name of CELLS) {
      const db = separateDatabase(`cell_${name}`);
      if (name === 'a') {
        // `npm run migrate` as a deployment runs it: the cell's database and the directory.
        const migrate = AppProcess.node(distPath('libs/persistence/src/cli/migrate.js'), {
          DATABASE_MIGRATION_URL: db.ownerUrl,
          CELL_DIRECTORY_MIGRATION_URL: directoryDb.ownerUrl,
        });
        const { code } = await migrate.exited;
        assert.equal(code, 0, migrate.stderr.join('\n'));
        assert.match(migrate.stdout.join('\n'), /"directory":"migrated"/);
      } else {
        await migrateDatabase({ DATABASE_MIGRATION_URL: db.ownerUrl, DATABASE_STATEMENT_TIMEOUT_MS: 60_000 });
        await migrateDirectory(directoryDb.ownerUrl); // a second time: idempotent
      }
      const stack = await Stack.start(`cell-${name}`, APPS, {
        DATABASE_URL: db.appUrl,
        DATABASE_MIGRATION_URL: db.ownerUrl,
        CELL_NAME: name,
        CELL_DIRECTORY_URL: directoryDb.appUrl,
        CUSTOMER_TOKEN_SECRET,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
      });
      gateways.set(name, new URL(stack.url('gateway')));
      cells.set(name, { name, db, stack, tenantId: '', apiKey: '' });
    }
    // Cell a's tenant by the operators' CLI, cell b's by the admin API: both register it.
    const a = cells.get('a')!;
    const created = await tallyCli(['tenants:create', 'Cell A tenant'], {
      DATABASE_URL: a.db.appUrl,
      CELL_NAME: 'a',
      CELL_DIRECTORY_URL: directoryDb.appUrl,
    });
    assert.equal(created.code, 0, created.stderr);
    Object.assign(a, JSON.parse(created.stdout.trim().split('\n').pop()!));
    const b = cells.get('b')!;
    const { accessToken } = await signIn(b.stack.url('admin'), ADMIN.email, ADMIN.password);
    const tenant = await send(
      b.stack.url('admin'),
      'POST',
      '/admin/api/tenants',
      { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      JSON.stringify({ name: 'Cell B tenant' }),
    );
    assert.equal(tenant.status, 201, tenant.text);
    Object.assign(b, { tenantId: tenant.body.id, apiKey: tenant.body.apiKey });

    router = await startCellRouter({
      directory,
      cells: gateways,
      defaultCell: 'a',
      port: 0,
      cacheTtlMs: 1_000,
    });
  }, 180_000);

  afterAll(async () => {
    await router?.close();
    await directory?.close();
    for (const cell of cells.values()) {
      await cell.stack.stop();
      await dropDatabase(cell.db.ownerUrl);
    }
    await dropDatabase(directoryDb.ownerUrl);
  }, 60_000);

  it('registers each tenant and its key in the directory, to the cell that created it', async () => {
    for (const cell of cells.values()) {
      assert.equal(await directory.cellOfTenant(cell.tenantId), cell.name);
      assert.equal(await directory.cellOfKey(hashApiKey(cell.apiKey)), cell.name);
    }
    // A tenant is never moved by registering it again elsewhere, nor its key taken along.
    const b = cells.get('b')!;
    const stray = generateApiKey();
    await assert.rejects(
      directory.register('a', [b.tenantId], [{ tenantId: b.tenantId, keyHash: stray.hash }]),
      TenantInOtherCellError,
    );
    assert.equal(await directory.cellOfTenant(b.tenantId), 'b');
    assert.equal(await directory.cellOfKey(stray.hash), null);
  });

  it('creates nothing in a cell whose registration in the directory fails', async () => {
    const b = cells.get('b')!;
    const cut = await b.stack.startExtra('admin', {
      CELL_DIRECTORY_URL: 'postgres://tally_app@127.0.0.1:1/tally_directory',
    });
    const db = await openDataSource(1, b.db.ownerUrl);
    try {
      const count = async () =>
        (
          await db.query(
            `SELECT (SELECT count(*) FROM tenants)::int AS tenants, (SELECT count(*) FROM api_keys)::int AS keys,
                    (SELECT count(*) FROM audit_log)::int AS audits`,
          )
        )[0] as { tenants: number; keys: number; audits: number };
      const { accessToken } = await signIn(cut.url, ADMIN.email, ADMIN.password);
      const before = await count(); // after signing in, which is audited
      const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
      const tenant = await send(
        cut.url,
        'POST',
        '/admin/api/tenants',
        auth,
        JSON.stringify({ name: 'Unregistered' }),
      );
      assert.equal(tenant.status, 503, tenant.text);
      const key = await send(
        cut.url,
        'POST',
        `/admin/api/tenants/${b.tenantId}/keys`,
        auth,
        JSON.stringify({ name: 'x' }),
      );
      assert.equal(key.status, 503, key.text);
      // Neither the tenant, nor the key, nor their audit rows: each creation rolled back whole.
      assert.deepEqual(await count(), before);
    } finally {
      await db.destroy();
      await cut.process.stop();
    }
  });

  it("sends each tenant's load to its own cell only, and each cell passes the fault suite's checks", async () => {
    const loads = new Map<CellName, LoadGenerator>();
    for (const cell of cells.values()) {
      const accounts: string[] = [];
      for (let i = 0; i < 4; i++) accounts.push(await api(cell.name).account());
      const load = new LoadGenerator(() => router.url, cell.apiKey, accounts, `cells-${cell.name}`, {
        clients: 3,
        pauseMs: 10,
      });
      for (const to of accounts) await load.submit({ type: 'deposit', to, amount: 1_000 });
      loads.set(cell.name, load);
    }
    const before = new Map(router.routed);
    const funded = new Map([...loads].map(([name, load]) => [name, load.accepted.size]));
    for (const load of loads.values()) load.start();
    await waitUntil(() => [...loads.values()].every((l) => l.accepted.size >= 150), 60_000);
    for (const load of loads.values()) await load.stop();
    // Each tenant's requests (at least one per transfer accepted under load) went to its own cell.
    for (const [name, load] of loads) {
      const routed = router.routed.get(name)! - before.get(name)!;
      assert.ok(routed >= load.accepted.size - funded.get(name)!, `cell ${name}: ${routed} routed`);
    }

    for (const cell of cells.values()) {
      const load = loads.get(cell.name)!;
      for (const id of load.accepted.keys()) await waitFinal(api(cell.name), id, 60_000);
      const db = await openDataSource(1, cell.db.ownerUrl);
      try {
        // Drained, as the fault suite waits: every outbox row (outcomes included) published.
        await waitFor(`cell ${cell.name}'s outbox published`, async () => {
          const [{ open }] = await db.query(
            `SELECT count(*)::int AS open FROM outbox WHERE published_at IS NULL`,
          );
          return open === 0;
        });
        const check = await checkTenant(db, load.accepted, cell.tenantId);
        assert.equal(check.lost.size, 0, `cell ${cell.name} lost ${[...check.lost].slice(0, 5)}`);
        assert.equal(
          check.duplicated.size,
          0,
          `cell ${cell.name} duplicated ${[...check.duplicated].slice(0, 5)}`,
        );
        assert.deepEqual(check.problems, []);
        assert.deepEqual(load.stats.unexpected, []);
        assert.equal(check.succeeded + check.failed, load.accepted.size);
        assert.ok(check.succeeded > 0);
        // Nothing of the other cell's tenant is here: not its tenant row, accounts or transactions.
        const other = cells.get(cell.name === 'a' ? 'b' : 'a')!;
        const [{ n }] = await db.query(
          `SELECT (SELECT count(*) FROM tenants WHERE id = $1) + (SELECT count(*) FROM accounts WHERE tenant_id = $1)
                + (SELECT count(*) FROM transactions WHERE tenant_id = $1) AS n`,
          [other.tenantId],
        );
        assert.equal(Number(n), 0, `cell ${cell.name} holds nothing of ${other.tenantId}`);
      } finally {
        await db.destroy();
      }
    }
  }, 180_000);

  it('passes ledger:verify in each cell on its own', async () => {
    for (const cell of cells.values()) {
      const verified = await tallyCli(['ledger:verify'], { DATABASE_URL: cell.db.appUrl });
      assert.equal(verified.code, 0, `cell ${cell.name}: ${verified.stdout} ${verified.stderr}`);
      assert.match(verified.stdout, /ledger:verify passed/);
      assert.doesNotMatch(verified.stdout, /— 0 transactions/);
    }
  });

  it("routes a customer token by its tenant, and never opens one cell's data with the other's key", async () => {
    const accountOfB = await api('b').account();
    const session = await api('b').post('/v1/customer-sessions', { accountId: accountOfB });
    assert.equal(session.status, 201, session.text);
    assert.equal(session.headers.get('x-tally-cell'), 'b');
    const asCustomer = await send(router.url, 'GET', '/v1/orders', {
      authorization: `Bearer ${session.body.accessToken}`,
    });
    assert.equal(asCustomer.status, 200, asCustomer.text);
    assert.equal(asCustomer.headers.get('x-tally-cell'), 'b');
    // A refresh has no credential but the refresh token, which names the tenant.
    const refreshed = await send(
      router.url,
      'POST',
      '/v1/customer-sessions/refresh',
      { 'content-type': 'application/json' },
      JSON.stringify({ refreshToken: session.body.refreshToken }),
    );
    assert.equal(refreshed.status, 200, refreshed.text);
    assert.equal(refreshed.headers.get('x-tally-cell'), 'b');
    assert.notEqual(refreshed.body.refreshToken, session.body.refreshToken);

    // Tenant a's key reaches cell a, which has no such account.
    const crossed = await api('a').get(`/v1/accounts/${accountOfB}`);
    assert.equal(crossed.status, 404);
    assert.equal(crossed.headers.get('x-tally-cell'), 'a');
    // A key no cell knows: the default cell's gateway refuses it as the API documents.
    const unknown = await send(router.url, 'GET', '/v1/accounts', {
      authorization: `Bearer tk_${'x'.repeat(32)}`,
    });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.code, 'unauthorized');
  });

  it('refuses every request cleanly while the directory cannot be reached, and is not ready', async () => {
    const unreachable = CellDirectory.open(
      'postgres://tally_app@127.0.0.1:1/tally_directory',
      'cells-test-down',
    );
    const blind = await startCellRouter({
      directory: unreachable,
      cells: gateways,
      defaultCell: 'a',
      port: 0,
    });
    try {
      // fetch, not send: send's contract check would fetch the API document through the router.
      const res = await fetch(`${blind.url}/v1/accounts`, {
        headers: { authorization: `Bearer ${cells.get('b')!.apiKey}` },
      });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.equal(((await res.json()) as { code: string }).code, 'service_unavailable');
      assert.equal(res.headers.get('retry-after'), '1');
      assert.equal((await fetch(`${blind.url}/health/ready`)).status, 503);
      assert.equal((await fetch(`${router.url}/health/ready`)).status, 200);
      assert.deepEqual([...blind.routed.values()], [0, 0], 'nothing was forwarded anywhere');
    } finally {
      await blind.close();
      await unreachable.close();
    }
  });

  it('routes by the key, not by the default cell, however the Bearer scheme is spelt', async () => {
    const otherDefault = await startCellRouter({ directory, cells: gateways, defaultCell: 'b', port: 0 });
    try {
      for (const cell of cells.values()) {
        for (const authorization of [`Bearer ${cell.apiKey}`, `bearer  ${cell.apiKey}`]) {
          const res = await fetch(`${otherDefault.url}/v1/accounts?limit=1`, { headers: { authorization } });
          assert.equal(res.status, 200, authorization.slice(0, 7));
          assert.equal(res.headers.get('x-tally-cell'), cell.name);
        }
      }
    } finally {
      await otherDefault.close();
    }
  });

  it('refuses a body larger than the gateway takes without reaching a cell', async () => {
    const before = [...router.routed.values()].reduce((a, b) => a + b, 0);
    const res = await fetch(`${router.url}/v1/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cells.get('b')!.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ currency: 'USD', metadata: { pad: 'x'.repeat(70 * 1024) } }),
    });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { code: string }).code, 'payload_too_large');
    assert.equal(
      [...router.routed.values()].reduce((a, b) => a + b, 0),
      before,
    );
  });

  it("ends the client's connection when a cell dies in the middle of its answer", async () => {
    // A gateway that starts an answer and dies: registered in the real directory as cell z.
    const dying = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    await new Promise<void>((resolve) => dying.listen(0, '127.0.0.1', resolve));
    const key = generateApiKey();
    const tenantId = newId('ten');
    await directory.register('z', [tenantId], [{ tenantId, keyHash: key.hash }]);
    const withZ = await startCellRouter({
      directory,
      cells: new Map([
        ...gateways,
        ['z', new URL(`http://127.0.0.1:${(dying.address() as AddressInfo).port}`)],
      ]),
      defaultCell: 'a',
      port: 0,
    });
    try {
      const res = await fetch(`${withZ.url}/v1/accounts`, {
        headers: { authorization: `Bearer ${key.plaintext}` },
        signal: AbortSignal.timeout(20_000),
      });
      assert.equal(res.headers.get('x-tally-cell'), 'z');
      // The body ends in an error at once; before, the client waited for the rest forever.
      const error = await res.text().then(
        () => null,
        (e: Error) => e,
      );
      assert.ok(error, 'the truncated answer is an error');
      assert.notEqual(error.name, 'TimeoutError', 'the client was not left waiting');
    } finally {
      await withZ.close();
      dying.closeAllConnections();
      await new Promise((resolve) => dying.close(resolve));
    }
  });

  it('registers tenants made before the deployment was a cell with cells:register', async () => {
    const b = cells.get('b')!;
    // Made in cell b's database without the cell variables: the directory does not know it.
    const made = await tallyCli(['tenants:create', 'Made before cells'], { DATABASE_URL: b.db.appUrl });
    assert.equal(made.code, 0, made.stderr);
    const { apiKey } = JSON.parse(made.stdout.trim().split('\n').pop()!) as { apiKey: string };
    const unrouted = await new Api(router.url, apiKey).get('/v1/accounts');
    assert.equal(unrouted.status, 401);
    assert.equal(unrouted.headers.get('x-tally-cell'), 'a');

    const registered = await tallyCli(['cells:register'], {
      DATABASE_URL: b.db.appUrl,
      CELL_NAME: 'b',
      CELL_DIRECTORY_URL: directoryDb.appUrl,
    });
    assert.equal(registered.code, 0, registered.stderr);
    assert.match(registered.stdout, /"cell":"b"/);
    assert.equal(await directory.cellOfKey(hashApiKey(apiKey)), 'b');
    // A router that has not cached the miss (the test's keeps it 1 s, a deployed one 5 s).
    const fresh = await startCellRouter({ directory, cells: gateways, defaultCell: 'a', port: 0 });
    try {
      const routed = await fetch(`${fresh.url}/v1/accounts`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      assert.equal(routed.status, 200);
      assert.equal(routed.headers.get('x-tally-cell'), 'b');
    } finally {
      await fresh.close();
    }
  });

  it('routes a key created later in a cell to that cell', async () => {
    const b = cells.get('b')!;
    const { accessToken } = await signIn(b.stack.url('admin'), ADMIN.email, ADMIN.password);
    const key = await send(
      b.stack.url('admin'),
      'POST',
      `/admin/api/tenants/${b.tenantId}/keys`,
      { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      JSON.stringify({ name: 'second' }),
    );
    assert.equal(key.status, 201, key.text);
    const res = await new Api(router.url, key.body.apiKey).post('/v1/accounts', { currency: 'USD' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('x-tally-cell'), 'b');
  });

  it("is one cell's tenants' outage when that cell is down, and not the other's", async () => {
    const b = cells.get('b')!;
    const accountOfA = await api('a').account();
    const accountOfB = await api('b').account();
    await b.stack.crash('gateway');
    try {
      const down = await api('b').post('/v1/accounts', { currency: 'USD' });
      assert.equal(down.status, 503);
      assert.equal(down.headers.get('content-type'), 'application/problem+json');
      assert.equal(down.headers.get('retry-after'), '1');
      assert.equal(down.body.code, 'service_unavailable');
      assert.equal(down.headers.get('x-tally-cell'), 'b');
      await api('a').deposit(accountOfA, 5); // throws unless it succeeded
    } finally {
      await b.stack.startApp('gateway');
      gateways.set('b', new URL(b.stack.url('gateway')));
    }
    await api('b').deposit(accountOfB, 5);
  }, 90_000);
});

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
