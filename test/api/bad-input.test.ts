import assert from 'node:assert/strict';
import http from 'node:http';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { Api, openDataSource, routesOf, signedInOperator, type Route } from '#test-support';
import { InProcessStack, newTenant, verifiedLedger } from '../support/in-process.js';

/**
 * Property-based abuse of every route of the gateway and the admin API (OWASP API8, API4):
 * generated malformed and hostile paths, query strings, headers and bodies. Whatever arrives,
 * the answer is never a 5xx, always problem+json when it is an error, and the ledger is exactly
 * as it was.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

function send(base: string, req: Sent): Promise<{ status: number; type: string; text: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: url.hostname, port: url.port, method: req.method, path: req.path, headers: req.headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }),
        );
      },
    );
    r.setTimeout(45_000, () => r.destroy(new Error(`no answer to ${req.method} ${req.path}`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

// ---- generators -------------------------------------------------------------------------------

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
});
const hostileText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-1',
    '1e309',
    'NaN',
    'null',
    'true',
    "' OR '1'='1",
    '"; DROP TABLE accounts; --',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    '${jndi:ldap://x}',
    '{{7*7}}',
    '\u0000',
    '\u202e',
    'a'.repeat(5000),
  ),
);
/** A path segment: encoded text, or a raw broken encoding. */
const segment = fc.oneof(
  { weight: 4, arbitrary: hostileText.map((t) => encodeURIComponent(t)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '..', '.', '%2e%2e', 'x'.repeat(600)),
  },
);
const jsonValue = fc.jsonValue({ maxDepth: 3 });
/** JSON number tokens (and look-alikes) no amount may be: written raw, past JSON.stringify. */
const badNumber = fc.constantFrom(
  '1e309',
  '-0',
  '0.5',
  '-1',
  '0',
  '9007199254740993',
  '1.7976931348623157e308',
  '1000000000000000001',
  '1E2',
  '"10"',
  '"1_000"',
);
/** A JSON text that no endpoint can accept as it is. */
const hostileBody = (valid: Record<string, unknown>) =>
  fc.oneof(
    // A valid body with one field broken.
    fc
      .record({
        field: fc.constantFrom(...Object.keys(valid), 'amount', 'currency', 'type'),
        raw: fc.oneof(
          badNumber,
          jsonValue.map((v) => JSON.stringify(v)),
          hostileText.map((t) => JSON.stringify(t)),
        ),
      })
      .map(({ field, raw }) =>
        JSON.stringify({ ...valid, [field]: '__RAW__', __fuzz_unknown__: true }).replace('"__RAW__"', raw),
      ),
    // Properties nobody may set, alongside a valid body.
    fc
      .constantFrom(
        'tenantId',
        'balance',
        'posted',
        'held',
        'status',
        'id',
        'role',
        '__proto__',
        'constructor',
      )
      .map(
        (field) =>
          `{${JSON.stringify(valid).slice(1, -1)}${Object.keys(valid).length ? ',' : ''}"${field}":{"x":1}}`,
      ),
    // Not an object at all.
    fc
      .oneof(fc.array(jsonValue, { maxLength: 5 }), fc.double(), printable, fc.boolean(), fc.constant(null))
      .map((v) => JSON.stringify(v)),
    // Not JSON, or JSON too deep or too big.
    fc.constantFrom(
      '{',
      '{"a":',
      "{'single': 'quotes'}",
      '\uFEFF{}',
      '{"a":1,"a":2,"__fuzz_unknown__":1}',
      '['.repeat(10_000) + ']'.repeat(10_000),
      `{"__fuzz_unknown__":"${'x'.repeat(70 * 1024)}"}`,
    ),
    printable,
  );

const VALID_BODIES: Record<string, Record<string, unknown>> = {
  'POST /v1/accounts': { currency: 'USD' },
  'POST /v1/transactions': { type: 'deposit', destinationAccountId: 'ACCOUNT', amount: 5, currency: 'USD' },
  'POST /v1/holds': { accountId: 'ACCOUNT', amount: 5, currency: 'USD' },
  'POST /v1/holds/:id/capture': { amount: 5 },
  'POST /v1/events': { id: 'e-1', type: 'api_call' },
  'POST /v1/meters': { eventType: 'api_call', aggregation: 'count', unitPrice: 1, currency: 'USD' },
  'POST /v1/webhook-endpoints': { url: 'https://example.com/hook' },
  'PATCH /v1/webhook-endpoints/:id': { description: 'x' },
  'POST /admin/api/accounts/:id/adjustments': { amount: 5, direction: 'credit', reason: 'fuzz' },
  'POST /admin/api/accounts/:id/freeze': { reason: 'fuzz' },
  'POST /admin/api/tenants': { name: 'fuzz' },
  'POST /admin/api/operators': { email: 'a@b.io', password: 'a long password!', role: 'viewer' },
  'POST /admin/api/auth/login': { email: 'a@b.io', password: 'x' },
  'POST /admin/api/dead-letters/replay': { queue: 'transaction-worker' },
};

function requestArb(routes: Route[], credentials: fc.Arbitrary<Record<string, string>>, account: string) {
  return fc
    .record({
      route: fc.constantFrom(...routes),
      params: fc.array(segment, { minLength: 3, maxLength: 3 }),
      query: fc.option(
        fc.array(
          fc.tuple(
            fc.oneof(
              printable,
              fc.constantFrom('limit', 'cursor', 'from', 'to', 'status', 'accountId', 'groupBy'),
            ),
            segment,
          ),
          {
            maxLength: 4,
          },
        ),
      ),
      credentials,
      contentType: fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=utf-16',
        '',
      ),
      extra: fc.dictionary(
        fc.constantFrom(
          'idempotency-key',
          'prefer',
          'x-request-id',
          'accept',
          'x-forwarded-for',
          'content-encoding',
        ),
        printable,
        { maxKeys: 3 },
      ),
    })
    .chain((r) => {
      const key = `${r.route.method} ${r.route.path}`;
      const valid = JSON.parse(JSON.stringify(VALID_BODIES[key] ?? {}).replaceAll('ACCOUNT', account));
      return (
        r.route.method === 'GET' || r.route.method === 'DELETE' ? fc.constant(undefined) : hostileBody(valid)
      ).map((body): Sent => {
        let i = 0;
        const path = r.route.path.replace(/:\w+/g, () => r.params[i++ % r.params.length]);
        const query = r.query ? '?' + r.query.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join('&') : '';
        const headers: Record<string, string> = { ...r.credentials, ...r.extra };
        if (body !== undefined && r.contentType) headers['content-type'] = r.contentType;
        return { method: r.route.method, path: path + query, headers, body };
      });
    });
}

// ---- the suite --------------------------------------------------------------------------------

describe('bad input on every route (property-based)', () => {
  let stack: InProcessStack;
  let db: DataSource;
  let api: Api;
  let apiKey: string;
  let account: string;
  let adminToken: string;

  const snapshot = async () => ({
    accounts: await db.query(
      `SELECT id, status, posted::text, held::text, version::text FROM accounts ORDER BY id`,
    ),
    entries: (await db.query(`SELECT count(*)::int AS n FROM ledger_entries`))[0].n,
    transactions: await db.query(
      `SELECT status, count(*)::int AS n FROM transactions GROUP BY status ORDER BY status`,
    ),
    holds: await db.query(`SELECT status, count(*)::int AS n FROM holds GROUP BY status ORDER BY status`),
  });

  beforeAll(async () => {
    stack = await InProcessStack.start('fuzz', ['gateway', 'transaction-worker', 'admin'], {
      // A limit would turn the run into a stream of 429s; those are covered by the rate-limit tests.
      ADMIN_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: '100000',
      ADMIN_LOGIN_MAX_FAILURES: '1000',
    });
    db = await openDataSource(2);
    ({ apiKey } = await newTenant('fuzzed'));
    api = new Api(stack.url('gateway'), apiKey);
    account = await api.account();
    await api.deposit(account, 10_000);
    adminToken = await signedInOperator(stack.url('admin'), 'admin');
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
  });

  const check = (req: Sent, res: { status: number; type: string; text: string }) => {
    const what = `${req.method} ${req.path.slice(0, 200)} -> ${res.status} ${res.text.slice(0, 300)}`;
    assert.ok(res.status >= 200 && res.status < 500, `a ${res.status}: ${what}`);
    assert.doesNotMatch(res.text, /\n\s+at [\w.<>]+ \(|node_modules\//, `a stack trace: ${what}`);
    if (res.status >= 400) {
      assert.match(res.type, /^application\/problem\+json/, `not problem+json: ${what}`);
      const problem = JSON.parse(res.text) as { status: number; code: string };
      assert.equal(problem.status, res.status, what);
      assert.match(problem.code, /^[a-z_]+$/, what);
    }
  };

  for (const app of ['gateway', 'admin'] as const) {
    it(`${app}: no malformed request gets a 5xx or anything but problem+json, and the ledger does not move`, async () => {
      const routes = await routesOf(app);
      const before = await snapshot();
      const credentials =
        app === 'gateway'
          ? fc.oneof(
              { weight: 8, arbitrary: fc.constant({ authorization: `Bearer ${apiKey}` }) },
              { weight: 1, arbitrary: printable.map((k) => ({ authorization: `Bearer ${k}` })) },
              { weight: 1, arbitrary: fc.constant({}) },
            )
          : fc.oneof(
              { weight: 8, arbitrary: fc.constant({ authorization: `Bearer ${adminToken}` }) },
              { weight: 1, arbitrary: printable.map((k) => ({ authorization: `Bearer ${k}` })) },
              { weight: 1, arbitrary: fc.constant({}) },
            );
      let sent = 0;
      await fc.assert(
        fc.asyncProperty(requestArb(routes, credentials, account), async (req) => {
          sent++;
          check(req, await send(stack.url(app), req));
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
      assert.equal(sent, RUNS);

      // Anything accepted would show by now (the worker applies within milliseconds).
      await new Promise((r) => setTimeout(r, 1_000));
      const afterwards = await snapshot();
      assert.deepEqual(afterwards.entries, before.entries, 'no ledger entry was written');
      assert.deepEqual(afterwards.transactions, before.transactions, 'no transaction was created');
      assert.deepEqual(afterwards.holds, before.holds, 'no hold was placed or released');
      const accountsBefore = new Map(before.accounts.map((a: { id: string }) => [a.id, a]));
      for (const a of afterwards.accounts as { id: string; posted: string; held: string }[]) {
        const was = accountsBefore.get(a.id);
        if (was) assert.deepEqual(a, was, `account ${a.id} changed`);
        else assert.deepEqual([a.posted, a.held], ['0', '0'], `a new account ${a.id} holds money`);
      }
      const verify = await verifiedLedger();
      assert.ok(verify.ok, verify.report);
    });
  }
});
