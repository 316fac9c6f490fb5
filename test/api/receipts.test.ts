import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Api, pdfText, send, signedInOperator, waitFor } from '#test-support';
import { InProcessStack, newTenant } from '../support/in-process.js';

const key = () => `r-${randomBytes(6).toString('hex')}`;

/**
 * `GET /v1/orders/{id}/receipt` and the operators' `GET /admin/api/orders/{id}/receipt`. The
 * worker is stopped while the orders that must stay reserved are placed, so "before completion"
 * is a state the test holds, not a race it hopes to win.
 */
describe('receipts of completed orders', () => {
  let stack: InProcessStack;
  let api: Api;
  let other: Api;
  let viewer: string;

  const admin = (path: string, token: string | null = viewer) =>
    send(stack.url('admin'), 'GET', path, token ? { authorization: `Bearer ${token}` } : {});
  const product = async (sku: string, price: number) => {
    const res = await api.post('/v1/products', {
      sku: `${sku}-${randomBytes(3).toString('hex')}`,
      name: `The ${sku.toLowerCase()}`,
      price,
      currency: 'USD',
      stock: 10,
    });
    assert.equal(res.status, 201, res.text);
    return res.body as { id: string; sku: string };
  };

  beforeAll(async () => {
    stack = await InProcessStack.start('receipts', ['gateway', 'transaction-worker', 'admin']);
    api = new Api(stack.url('gateway'), (await newTenant('Lumen Lamps')).apiKey);
    other = new Api(stack.url('gateway'), (await newTenant('Other shop')).apiKey);
    viewer = await signedInOperator(stack.url('admin'), 'viewer');
  });
  afterAll(() => stack?.stop());

  it('409 before completion, 404 to another tenant, then the PDF with the order id and the total', async () => {
    const lamp = await product('LAMP', 123_456);
    const bulb = await product('BULB', 1_000);
    const account = await api.account({ currency: 'USD' });
    await api.deposit(account, 500_000);
    await stack.app('transaction-worker').close(); // started again below
    const place = () =>
      api.post(
        '/v1/orders',
        {
          accountId: account,
          items: [
            { productId: lamp.id, quantity: 1 },
            { productId: bulb.id, quantity: 2 },
          ],
        },
        { 'idempotency-key': key() },
      );
    const placed = await place();
    assert.equal(placed.status, 201, placed.text);
    const id = placed.body.id as string;
    const cancelled = (await place()).body.id as string;
    assert.equal((await api.post(`/v1/orders/${cancelled}/cancel`)).status, 200);

    // Reserved (no worker yet), or cancelled: no receipt.
    for (const orderId of [id, cancelled]) {
      const early = await api.get(`/v1/orders/${orderId}/receipt`);
      assert.equal(early.status, 409, early.text);
      assert.equal(early.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(early.body.code, 'order_not_completed');
      assert.equal((await admin(`/admin/api/orders/${orderId}/receipt`)).body.code, 'order_not_completed');
    }

    await stack.startApp('transaction-worker');
    await waitFor(
      `order ${id} completed`,
      async () => ((await api.get(`/v1/orders/${id}`)).body.status === 'completed' ? true : undefined),
      20_000,
    );

    const res = await api.get(`/v1/orders/${id}/receipt`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="receipt-${id}.pdf"`);
    assert.equal(res.bytes.subarray(0, 5).toString(), '%PDF-');
    const text = await pdfText(res.bytes);
    for (const expected of [
      'Lumen Lamps',
      id,
      lamp.sku,
      'The lamp',
      'USD 1,234.56',
      bulb.sku,
      'USD 10.00',
      'USD 20.00',
      'USD 1,254.56', // the total: 123,456 + 2 × 1,000 minor units
    ]) {
      assert.ok(text.includes(expected), `"${expected}" in:\n${text}`);
    }
    // The same file every time it is asked for.
    assert.ok((await api.get(`/v1/orders/${id}/receipt`)).bytes.equals(res.bytes));

    // Another tenant's order, an unknown order, a malformed id: 404, nothing said about it.
    for (const [client, orderId] of [
      [other, id],
      [api, 'ord_00000000000000000000000000'],
      [api, 'not-an-order'],
    ] as const) {
      const missing = await client.get(`/v1/orders/${orderId}/receipt`);
      assert.equal(missing.status, 404, missing.text);
      assert.equal(missing.body.code, 'order_not_found');
    }
    assert.equal((await send(stack.url('gateway'), 'GET', `/v1/orders/${id}/receipt`)).status, 401);

    // Operators: any tenant's order, the same bytes; signed in or nothing.
    const operators = await admin(`/admin/api/orders/${id}/receipt`);
    assert.equal(operators.status, 200, operators.text);
    assert.equal(operators.headers.get('content-type'), 'application/pdf');
    assert.equal(operators.headers.get('content-disposition'), `attachment; filename="receipt-${id}.pdf"`);
    assert.ok(operators.bytes.equals(res.bytes));
    assert.equal((await admin('/admin/api/orders/ord_00000000000000000000000000/receipt')).status, 404);
    assert.equal((await admin(`/admin/api/orders/${id}/receipt`, null)).status, 401);
  });
});
