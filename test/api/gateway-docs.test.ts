import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Contract, routesOf, send } from '#test-support';
import { GATEWAY_PROBLEMS } from '../../apps/gateway/src/docs/problems.js';
import { InProcessStack } from '../support/in-process.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OpenApi = Record<string, any>;

describe('gateway API documentation (generated)', () => {
  let stack: InProcessStack;
  let doc: OpenApi;

  beforeAll(async () => {
    stack = await InProcessStack.start('gwdocs', ['gateway']);
    const res = await send(stack.url('gateway'), 'GET', '/docs-json');
    assert.equal(res.status, 200, res.text);
    doc = res.body;
  });
  afterAll(() => stack?.stop());

  const operations = () =>
    Object.entries<Record<string, OpenApi>>(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    );

  it('/docs-json is a valid OpenAPI 3.1 document with bearer security', async () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.components.securitySchemes.apiKey, {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'API key',
      description: 'Authorization: Bearer tk_…',
    });
    assert.deepEqual(doc.security, [{ apiKey: [] }]);
    const validation = await new Validator().validate(doc);
    assert.ok(validation.valid, JSON.stringify(validation.errors, null, 2));
  });

  it('customer tokens: a bearer scheme of their own, listed (with the scope) exactly on the operations that take them', async () => {
    assert.equal(doc.components.securitySchemes.customerToken.type, 'http');
    assert.equal(doc.components.securitySchemes.customerToken.scheme, 'bearer');
    assert.equal(doc.components.securitySchemes.customerToken.bearerFormat, 'JWT');
    const storefront = operations()
      .filter((o) => o.operation.security?.some((s: object) => 'customerToken' in s))
      .map((o) => `${o.key} ${o.operation['x-customer-scope']}`)
      .sort();
    assert.deepEqual(storefront, [
      'GET /v1/accounts/{id} account:read',
      'GET /v1/accounts/{id}/recommendations account:read',
      'GET /v1/orders orders:read',
      'GET /v1/orders/{id} orders:read',
      'GET /v1/products products:read',
      'GET /v1/products/{id} products:read',
      'GET /v1/products/{id}/also-bought products:read',
      'POST /v1/orders orders:write',
      'POST /v1/orders/{id}/cancel orders:write',
      'POST /v1/products/{id}/ratings ratings:write',
    ]);
    for (const { key, operation } of operations()) {
      if (operation['x-customer-scope']) {
        assert.deepEqual(operation.security, [{ apiKey: [] }, { customerToken: [] }], key);
      }
      assert.ok(operation.responses['403'], `${key} documents 403 forbidden`);
    }
    // Refreshing needs no credential: the refresh token is one.
    assert.deepEqual(doc.paths['/v1/customer-sessions/refresh'].post.security, [{}]);
  });

  it('documents every route of the gateway, and nothing else', async () => {
    const routes = (await routesOf('gateway')).map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    assert.ok(routes.length >= 25, `only ${routes.length} routes`);
    assert.deepEqual(
      operations()
        .map((o) => o.key)
        .sort(),
      routes.sort(),
    );
  });

  it('a transaction body is oneOf its DTO classes, chosen by `type`', () => {
    const schema = doc.paths['/v1/transactions'].post.requestBody.content['application/json'].schema;
    assert.equal(schema.discriminator.propertyName, 'type');
    assert.deepEqual(Object.keys(schema.discriminator.mapping).sort(), [
      'charge',
      'deposit',
      'refund',
      'transfer',
      'withdrawal',
    ]);
    assert.equal(schema.oneOf.length, 5);
    for (const [type, ref] of Object.entries<string>(schema.discriminator.mapping)) {
      const body = doc.components.schemas[ref.split('/').pop()!];
      assert.deepEqual(body.properties.type.enum, [type]);
    }
  });

  it('every operation has a summary, a success, and one example per error code; every code is documented', () => {
    const documented = new Set<string>();
    for (const { key, operation } of operations()) {
      assert.ok(operation.summary && operation.operationId, `${key} has a summary and an operationId`);
      assert.ok(
        Object.keys(operation.responses).some((s) => s.startsWith('2')),
        `${key} documents its success`,
      );
      for (const status of ['401', '429', '503']) assert.ok(operation.responses[status], `${key} ${status}`);
      assert.ok(operation.responses['429'].headers['Retry-After'], `${key} 429 Retry-After`);
      for (const [status, response] of Object.entries<OpenApi>(operation.responses)) {
        if (Number(status) < 400) continue;
        const examples = response.content?.['application/problem+json']?.examples as OpenApi;
        assert.ok(examples && Object.keys(examples).length > 0, `${key} ${status} has examples`);
        for (const example of Object.values<OpenApi>(examples)) {
          assert.equal(example.value.status, Number(status), `${key} ${example.value.code}`);
          documented.add(example.value.code);
        }
      }
    }
    assert.deepEqual([...documented].sort(), Object.keys(GATEWAY_PROBLEMS).sort());
  });

  it('the contract check refuses an undocumented status, a field the document does not name, a wrong type', () => {
    const contract = new Contract(doc);
    const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' });
    const hold = {
      id: 'hold_01JD3ZB2C3D4E5F6G7H8J9K0MN',
      accountId: 'acc_01JD3Z8Q4N6V3F5W7X9Y1A2B3C',
      amount: 2500,
      currency: 'USD',
      status: 'active',
      expiresAt: '2026-11-28T12:00:00.000Z',
      createdAt: '2026-11-21T12:00:00.000Z',
    };
    const path = `/v1/holds/${hold.id}`;
    assert.deepEqual(contract.problems('GET', path, { status: 200, headers, body: hold, text: '' }), []);
    for (const [status, body, problem] of [
      [201, hold, /status not documented/],
      [200, { ...hold, tenantId: 'ten_x' }, /must NOT have additional properties/],
      [200, { ...hold, status: 'gone' }, /must be equal to one of the allowed values/],
      [200, { ...hold, amount: '2500' }, /must be integer/],
      [200, { id: hold.id }, /must have required property/],
    ] as const) {
      const found = contract.problems('GET', path, { status, headers, body, text: '' });
      assert.match(found.join('\n'), problem, JSON.stringify(body));
    }
    assert.match(
      contract.problems('GET', '/v1/nowhere', { status: 200, headers, body: {}, text: '' })[0],
      /no documented operation/,
    );
  });
});
