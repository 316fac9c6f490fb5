import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import fc from 'fast-check';
import { MAX_JSON_DEPTH } from '#domain';
import { Api, Stack, createTenant, signedInOperator } from '#test-support';

/**
 * Deeply nested JSON (OWASP API4): a body well under 64 KiB can nest thousands of levels, and any
 * recursion over it (the parser, the Idempotency-Key fingerprint, validation) runs out of stack.
 * Both APIs refuse a body nested deeper than MAX_JSON_DEPTH with a 400 before parsing it.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

/** Where the nested value goes in a body that is otherwise valid. */
const PLACES = {
  'gateway POST /v1/events (a batch, with a key)': (deep: string) => `{"events":[${deep}]}`,
  'gateway POST /v1/events (properties, with a key)': (deep: string) =>
    `{"id":"e-${randomBytes(4).toString('hex')}","type":"api_call","properties":{"k":${deep}}}`,
  'gateway POST /v1/transactions': (deep: string) =>
    `{"type":"deposit","destinationAccountId":"acc_00000000000000000000000000","amount":1,"currency":"USD","metadata":${deep}}`,
  'gateway POST /v1/accounts (with a key)': (deep: string) => `{"currency":"USD","metadata":${deep}}`,
  'admin POST /admin/api/tenants': (deep: string) => `{"name":${deep}}`,
} as const;
type Place = keyof typeof PLACES;

/** `depth` levels of arrays and objects (in the order `shape` says), around a number. */
function nested(depth: number, shape: boolean[]): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const object = shape[i % shape.length];
    open += object ? '{"a":' : '[';
    close = (object ? '}' : ']') + close;
  }
  return `${open}1${close}`;
}

describe('deeply nested JSON bodies (property-based)', () => {
  let stack: Stack;
  let api: Api;
  let adminToken: string;

  beforeAll(async () => {
    stack = await Stack.start('deep', ['gateway', 'admin']);
    api = new Api(stack.url('gateway'), (await createTenant('deep')).apiKey);
    adminToken = await signedInOperator(stack.url('admin'), 'admin');
  });
  afterAll(() => stack?.stop());

  const send = async (place: Place, body: string) => {
    const admin = place.startsWith('admin');
    const path = place.split(' ')[2];
    const res = await fetch((admin ? stack.url('admin') : stack.url('gateway')) + path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${admin ? adminToken : api.apiKey}`,
        ...(place.includes('with a key') || path === '/v1/transactions'
          ? { 'idempotency-key': `deep-${randomBytes(6).toString('hex')}` }
          : {}),
      },
      body,
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  it('any depth: never a 5xx; deeper than the limit is a 400 problem in both APIs', async () => {
    const place = fc.constantFrom(...(Object.keys(PLACES) as Place[]));
    const depth = fc.oneof(
      fc.integer({ min: 1, max: MAX_JSON_DEPTH + 2 }),
      fc.integer({ min: MAX_JSON_DEPTH, max: 6_000 }),
    );
    const shape = fc.array(fc.boolean(), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(place, depth, shape, async (at, levels, kinds) => {
        const res = await send(at, PLACES[at](nested(levels, kinds)));
        const what = `${at}, depth ${levels} -> ${res.status} ${res.text.slice(0, 300)}`;
        assert.ok(res.status < 500, what);
        // The body's own depth: the nested value sits one or two levels into it.
        const total = levels + (at.includes('batch') || at.includes('properties') ? 2 : 1);
        const tooDeep = res.text.includes(`deeper than ${MAX_JSON_DEPTH} levels`);
        assert.equal(tooDeep, total > MAX_JSON_DEPTH, what);
        if (tooDeep) {
          assert.equal(res.status, 400, what);
          assert.match(res.type, /^application\/problem\+json/, what);
          if (!at.startsWith('admin')) assert.equal(JSON.parse(res.text).code, 'invalid_json', what);
        }
      }),
      {
        numRuns: RUNS,
        endOnFailure: true,
        // The request that answered 500 before the limit: the fingerprint of an events batch.
        examples: [['gateway POST /v1/events (a batch, with a key)', 3_000, [true]]],
      },
    );
  });
});
