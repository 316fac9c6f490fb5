import assert from 'node:assert/strict';
import request from 'supertest';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Api } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OpenApi = Record<string, any>;

describe('API documentation', () => {
  let stack: InProcessStack;
  let api: Api;

  beforeAll(async () => {
    stack = await InProcessStack.start('docs', ['gateway']);
    api = new Api(stack.url('gateway'), (await newTenant('Docs')).apiKey);
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('serves Swagger UI at /docs and OpenAPI 3.1 at /docs-json, without an API key', async () => {
    await request(stack.url('gateway'))
      .get('/docs')
      .expect(200)
      .expect('content-type', /text\/html/);
    const doc = (await request(stack.url('gateway')).get('/docs-json').expect(200)).body as OpenApi;
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.components.securitySchemes.apiKey);
    assert.ok(doc.components.securitySchemes.customerToken);
  });

  it('documents every operation the gateway serves under /v1, and only those', async () => {
    const doc = (await request(stack.url('gateway')).get('/docs-json').expect(200)).body as OpenApi;
    // A well-formed id for each path family, so a route answers its own "not found", not the router's.
    const ids: [prefix: string, id: string][] = [
      ['/v1/accounts', 'acc_00000000000000000000000000'],
      ['/v1/transactions', 'txn_00000000000000000000000000'],
      ['/v1/holds', 'hold_00000000000000000000000000'],
      ['/v1/products', 'prod_00000000000000000000000000'],
      ['/v1/orders', 'ord_00000000000000000000000000'],
      ['/v1/events', 'evt-none'],
      ['/v1/webhook-endpoints', 'whe_00000000000000000000000000'],
    ];
    const fill = (path: string) => {
      const filled = path
        .replace('{deliveryId}', 'dlv_00000000000000000000000000')
        .replace('{type}', 'api.call');
      if (!filled.includes('{id}')) return filled;
      const family = ids.find(([prefix]) => filled.startsWith(`${prefix}/`));
      assert.ok(family, `an id to fill in ${path}`);
      return filled.replace('{id}', family[1]);
    };
    const documented: string[] = [];
    for (const [path, operations] of Object.entries<Record<string, { responses: object }>>(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        documented.push(`${method.toUpperCase()} ${path}`);
        assert.ok(Object.keys(operation.responses).length > 0);
        // A documented route exists: it never answers "no such route".
        const res = await api.request(
          method.toUpperCase(),
          fill(path),
          method === 'post' ? { body: {} } : {},
        );
        assert.notEqual(res.body?.code, 'not_found', `${method} ${path} is served`);
      }
    }
    assert.deepEqual(documented.sort(), [
      'DELETE /v1/event-types/{type}',
      'DELETE /v1/webhook-endpoints/{id}',
      'GET /v1/accounts',
      'GET /v1/accounts/{id}',
      'GET /v1/accounts/{id}/entries',
      'GET /v1/accounts/{id}/recommendations',
      'GET /v1/event-types',
      'GET /v1/event-types/{type}',
      'GET /v1/events',
      'GET /v1/events/stats',
      'GET /v1/events/{id}',
      'GET /v1/holds/{id}',
      'GET /v1/meters',
      'GET /v1/orders',
      'GET /v1/orders/{id}',
      'GET /v1/orders/{id}/receipt',
      'GET /v1/products',
      'GET /v1/products/{id}',
      'GET /v1/products/{id}/also-bought',
      'GET /v1/transactions',
      'GET /v1/transactions/{id}',
      'GET /v1/usage',
      'GET /v1/webhook-endpoints',
      'GET /v1/webhook-endpoints/{id}',
      'GET /v1/webhook-endpoints/{id}/deliveries',
      'PATCH /v1/products/{id}',
      'PATCH /v1/webhook-endpoints/{id}',
      'POST /v1/accounts',
      'POST /v1/customer-sessions',
      'POST /v1/customer-sessions/refresh',
      'POST /v1/event-types',
      'POST /v1/events',
      'POST /v1/holds',
      'POST /v1/holds/{id}/capture',
      'POST /v1/holds/{id}/void',
      'POST /v1/meters',
      'POST /v1/orders',
      'POST /v1/orders/{id}/cancel',
      'POST /v1/products',
      'POST /v1/products/{id}/ratings',
      'POST /v1/products/{id}/stock',
      'POST /v1/provider-events',
      'POST /v1/transactions',
      'POST /v1/webhook-endpoints',
      'POST /v1/webhook-endpoints/{id}/deliveries/{deliveryId}/retry',
      'POST /v1/webhook-endpoints/{id}/recover',
      'POST /v1/webhook-endpoints/{id}/rotate-secret',
      'PUT /v1/event-types/{type}',
    ]);
    // …and what is not documented is not served.
    for (const [method, path] of [
      ['DELETE', '/v1/accounts/acc_00000000000000000000000000'],
      ['PUT', '/v1/transactions/txn_00000000000000000000000000'],
      ['PATCH', '/v1/accounts'],
    ]) {
      assert.equal((await api.request(method, path)).body?.code, 'not_found', `${method} ${path}`);
    }
  });

  it('every error code the gateway can answer on these routes is documented', async () => {
    const { text } = await request(stack.url('gateway')).get('/docs-json').expect(200);
    for (const code of [
      'validation_error',
      'unauthorized',
      'account_not_found',
      'transaction_not_found',
      'external_ref_taken',
      'currency_mismatch',
      'account_frozen',
      'transaction_not_refundable',
      'refund_exceeds_remaining',
      'idempotency_key_required',
      'idempotency_key_reused',
      'idempotency_key_in_use',
      'payload_too_large',
      'unsupported_media_type',
      'insufficient_funds',
      'hold_not_found',
      'hold_not_active',
      'event_type_exists',
      'event_type_not_found',
      'invalid_event_schema',
      'capture_exceeds_hold',
      'meter_exists',
      'event_not_found',
      'webhook_endpoint_not_found',
      'webhook_delivery_not_found',
      'webhook_url_refused',
      'rate_limited',
      'invalid_input',
      'uri_too_long',
      'forbidden',
      'refresh_token_reused',
    ]) {
      assert.ok(text.includes(code), code);
    }
  });
});
