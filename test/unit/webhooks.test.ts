import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from '@jest/globals';
import { pathToFileURL } from 'node:url';
import { Webhook } from 'standardwebhooks';
import {
  isAddressAllowed,
  newWebhookSecret,
  nextRetryDelayMs,
  parseRetryAfter,
  signatureHeader,
  verifyWebhook,
} from '#domain';
import { repoRoot } from '#test-support';

describe('webhook signing (Standard Webhooks)', () => {
  const secret = newWebhookSecret();
  const body = '{"id":"evt_1","type":"transaction.succeeded","data":{}}';
  const ts = Math.floor(Date.now() / 1000);

  it('signs as the standardwebhooks package verifies, with every live secret', () => {
    const old = newWebhookSecret();
    const header = signatureHeader([secret, old], 'evt_1', ts, body);
    assert.equal(header.split(' ').length, 2);
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': header };
    for (const s of [secret, old]) assert.ok(new Webhook(s).verify(body, headers));
    assert.throws(() => new Webhook(newWebhookSecret()).verify(body, headers));
    assert.ok(verifyWebhook(secret, 'evt_1', String(ts), body, header));
    assert.ok(!verifyWebhook(secret, 'evt_1', String(ts), body + ' ', header));
  });

  it("the docs' dependency-free receiver example verifies it and refuses tampering", async () => {
    const { verifyTallyWebhook } = await import(
      pathToFileURL(path.join(repoRoot, 'docs/verify-webhook.mjs')).href
    );
    const headers = {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': signatureHeader([secret], 'evt_1', ts, body),
    };
    assert.equal(verifyTallyWebhook(secret, headers, body).id, 'evt_1');
    assert.throws(
      () => verifyTallyWebhook(secret, headers, body.replace('evt_1', 'evt_2')),
      /no valid signature/,
    );
    assert.throws(() => verifyTallyWebhook(secret, headers, body, ts + 3600), /timestamp/);
  });
});

describe('webhook retries', () => {
  it('follow the schedule with ±20% jitter, never sooner than Retry-After, then stop', () => {
    const schedule = [1000, 10_000];
    assert.equal(
      nextRetryDelayMs(1, schedule, null, () => 0.5),
      1000,
    );
    assert.equal(
      nextRetryDelayMs(1, schedule, null, () => 0),
      800,
    );
    assert.equal(
      nextRetryDelayMs(2, schedule, null, () => 1),
      12_000,
    );
    assert.equal(
      nextRetryDelayMs(1, schedule, 60_000, () => 0.5),
      60_000,
    );
    assert.equal(nextRetryDelayMs(3, schedule, null), null);
  });

  it('read Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('120'), 120_000);
    const now = Date.parse('2026-11-21T12:00:00Z');
    assert.equal(parseRetryAfter('Sat, 21 Nov 2026 12:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfter('soon'), null);
    assert.equal(parseRetryAfter(null), null);
  });
});

describe('webhook destinations (SSRF)', () => {
  it('allows public addresses only, unless the host or a CIDR is allow-listed', () => {
    for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'])
      assert.ok(isAddressAllowed('h', a, []));
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fd00::1',
      'fe80::1',
      '0.0.0.0',
      '::ffff:127.0.0.1',
      '100.64.0.1',
    ]) {
      assert.ok(!isAddressAllowed('h', a, []), a);
    }
    assert.ok(isAddressAllowed('localhost', '127.0.0.1', ['localhost']));
    assert.ok(isAddressAllowed('h', '10.1.2.3', ['10.0.0.0/8']));
    assert.ok(isAddressAllowed('h', '11.1.2.3', ['10.0.0.0/8']));
    assert.ok(!isAddressAllowed('h', '192.168.0.1', ['10.0.0.0/8']));
    assert.ok(isAddressAllowed('h', '127.0.0.1', ['127.0.0.1']));
  });
});
