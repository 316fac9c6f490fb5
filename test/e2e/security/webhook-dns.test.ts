import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Api, Stack, createTenant, waitFor } from '#test-support';

/** The name asked in a DNS query (RFC 1035 §4.1.2: labels after the 12-byte header). */
function questionName(packet: Buffer): string {
  const labels: string[] = [];
  for (let i = 12; i < packet.length && packet[i] !== 0; i += packet[i] + 1) {
    labels.push(packet.subarray(i + 1, i + 1 + packet[i]).toString('latin1'));
  }
  return labels.join('.');
}

/**
 * A webhook host's name servers are the tenant's to choose (OWASP API4, API7): one that never
 * answers held the database connection of the endpoint's registration for the whole lookup (it
 * ran inside the idempotency transaction), so ten such registrations took a pool of ten and every
 * tenant got 503. The lookup now runs before the transaction, cancelled after
 * WEBHOOK_DNS_TIMEOUT_MS.
 */
describe('webhook registration with a name server that never answers', () => {
  const TIMEOUT_MS = 6_000;
  const asked = new Set<string>();
  let silent: dgram.Socket;
  let stack: Stack;
  let attacker: Api;
  let bystander: Api;

  beforeAll(async () => {
    // Reads every query and answers none.
    silent = dgram.createSocket('udp4');
    silent.on('message', (packet) => asked.add(questionName(packet)));
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    stack = await Stack.start('dns', ['gateway'], {
      DATABASE_POOL_MAX: '2',
      WEBHOOK_DNS_SERVERS: `127.0.0.1:${silent.address().port}`,
      WEBHOOK_DNS_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_ALLOWED_HOSTS: 'hooks.internal',
    });
    attacker = new Api(stack.url('gateway'), (await createTenant('slow dns')).apiKey);
    bystander = new Api(stack.url('gateway'), (await createTenant('bystander')).apiKey);
  });
  afterAll(async () => {
    await stack?.stop();
    silent?.close();
  });

  it('ten hanging lookups hold no connection: another tenant is served meanwhile; each times out with a 422', async () => {
    const account = await bystander.account();
    const hosts = Array.from({ length: 10 }, (_, i) => `hook-${i}.never-answers.example`);
    let settled = 0;
    const registrations = hosts.map((host, i) =>
      attacker
        .post('/v1/webhook-endpoints', { url: `https://${host}/x` }, { 'idempotency-key': `dns-${i}` })
        .finally(() => settled++),
    );

    // All ten lookups are in flight at once, although the pool has two connections.
    await waitFor('every host to be asked for', () => hosts.every((h) => asked.has(h)), TIMEOUT_MS / 2);
    const deposits = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        bystander.post(
          '/v1/transactions',
          { type: 'deposit', destinationAccountId: account, amount: 1, currency: 'USD' },
          { 'idempotency-key': `bystander-${i}` },
        ),
      ),
    );
    assert.deepEqual(
      deposits.map((d) => d.status),
      Array(10).fill(202),
    );
    assert.equal(settled, 0, 'the deposits were answered while every lookup still hung');

    for (const res of await Promise.all(registrations)) {
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.code, 'webhook_url_refused');
      assert.match(res.body.detail, /did not resolve within 6 s/);
    }
    // The refusal is the key's answer, as any refusal: the same request gets it again.
    const again = await attacker.post(
      '/v1/webhook-endpoints',
      { url: `https://${hosts[0]}/x` },
      { 'idempotency-key': 'dns-0' },
    );
    assert.equal(again.status, 422);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
  });

  it('a host the operator allows by name is not looked up (any address of it is allowed)', async () => {
    const res = await attacker.post('/v1/webhook-endpoints', { url: 'http://hooks.internal:8080/x' });
    assert.equal(res.status, 201, res.text);
    assert.ok(!asked.has('hooks.internal'));
  });
});
