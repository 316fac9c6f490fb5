import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { newId } from '#domain';
import { Exchanges } from '#messaging';
import { Api, BrokerProbe, Stack, createTenant, waitFor } from '#test-support';

/**
 * Integers past 2^53 (balances get there) cross the broker and reach receivers exactly: every
 * message is decoded losslessly, and what is built from it is written back the same way.
 */
describe('integers above 2^53 in messages', () => {
  let stack: Stack;
  let probe: BrokerProbe;
  let server: http.Server;
  const bodies: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stack = await Stack.start('bigints', ['gateway', 'notification'], { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
    probe = await BrokerProbe.open();
  });
  afterAll(async () => {
    await probe?.close();
    await stack?.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('an event carrying 10000000000000000001 reaches the webhook receiver exactly', async () => {
    const tenant = await createTenant('Big numbers');
    const api = new Api(stack.url('gateway'), tenant.apiKey);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big`;
    const endpoint = await api.post('/v1/webhook-endpoints', { url, eventTypes: ['account.balance_low'] });
    assert.equal(endpoint.status, 201, endpoint.text);

    const eventId = newId('evt');
    // Written by hand: JSON.stringify cannot produce these numbers.
    const event =
      `{"id":"${eventId}","type":"account.balance_low","tenantId":"${tenant.tenantId}",` +
      `"createdAt":"${new Date().toISOString()}","data":{"accountId":"acc_big","currency":"USD",` +
      `"available":10000000000000000001,"threshold":9007199254740993,"limits":[-18014398509481985]}}`;
    await probe.publishConfirmed(`${stack.prefix}${Exchanges.events}`, 'account.balance_low', event, {
      messageId: eventId,
      type: 'account.balance_low',
      contentType: 'application/json',
    });

    const body = await waitFor('the webhook delivery', () => bodies.find((b) => b.includes(eventId)));
    assert.match(body, /"available":10000000000000000001[,}]/);
    assert.match(body, /"threshold":9007199254740993[,}]/);
    assert.match(body, /"limits":\[-18014398509481985\]/);
  });
});
