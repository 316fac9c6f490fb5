import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { bySecond, mixSequence, parseMix, runOpenLoop } from '../../bench/open-loop.js';

describe('the load test mix', () => {
  it('interleaves kinds in their exact shares in every window of 100', () => {
    const next = mixSequence(parseMix('transfers=70,events=20,orders=10'));
    for (let window = 0; window < 5; window++) {
      const counts: Record<string, number> = {};
      for (let i = 0; i < 100; i++) {
        const kind = next();
        counts[kind] = (counts[kind] ?? 0) + 1;
      }
      assert.deepEqual(counts, { transfers: 70, events: 20, orders: 10 });
    }
  });

  it('refuses a mix it cannot read', () => {
    assert.throws(() => parseMix('transfers'), /kind=weight/);
    assert.throws(() => parseMix('transfers=-1'), /kind=weight/);
    assert.throws(() => parseMix('transfers=0,events=0'), /no weight/);
  });
});

describe('open-loop load (no coordinated omission)', () => {
  const DELAY_MS = 100;
  let server: http.Server;
  let port: number;
  let received = 0;

  beforeAll(async () => {
    // A slow server: every answer takes DELAY_MS.
    server = http.createServer((req, res) => {
      received++;
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          res.writeHead(202, { 'content-type': 'text/plain', 'content-length': '2' });
          res.end('ok');
        }, DELAY_MS),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const request = () => ({
    kind: 'ping',
    head: `POST / HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n`,
    body: '{}',
  });

  it('sends every request of the schedule, whatever the answers take', async () => {
    received = 0;
    const { outcomes, connections } = await runOpenLoop({
      host: '127.0.0.1',
      port,
      rate: 100,
      seconds: 1,
      maxConnections: 1000,
      next: request,
    });
    assert.equal(outcomes.length, 100);
    assert.equal(received, 100);
    assert.ok(outcomes.every((o) => o.status === 202));
    // Requests due while others waited for their answers went out on new connections.
    assert.ok(connections > 1, `${connections} connection(s)`);
    assert.ok(outcomes.every((o) => o.latencyMs >= DELAY_MS - 1));
    assert.deepEqual(
      bySecond(outcomes)
        .filter((r) => r.due > 0)
        .map((r) => [r.second, r.due, r.ok]),
      [[0, 100, 100]],
    );
  });

  it('per second: requests by their scheduled second, 2xx answers by the second they arrived', () => {
    const o = (scheduledMs: number, latencyMs: number, status = 202) => ({
      kind: 'transfers',
      scheduledMs,
      latencyMs,
      status,
    });
    // Two due in second 0 (one answered at once, one 2.5 s late), one due in second 1 that failed.
    const rows = bySecond([o(100, 50), o(900, 2_500), o(1_200, 10, 503)]);
    assert.deepEqual(
      rows.map((r) => [r.second, r.due, r.ok, r.failed, r.answered]),
      [
        [0, 2, 2, 0, 1],
        [1, 1, 0, 1, 0],
        [2, 0, 0, 0, 0],
        [3, 0, 0, 0, 1],
      ],
    );
  });

  it('counts the wait for a connection against the system: latency runs from the scheduled time', async () => {
    // One connection, 20 requests due within 0.2 s, 100 ms each: the k-th answer comes after
    // about k × 100 ms of the run, so its latency from its due time (k × 10 ms) grows with k.
    const { outcomes } = await runOpenLoop({
      host: '127.0.0.1',
      port,
      rate: 100,
      seconds: 0.2,
      maxConnections: 1,
      next: request,
    });
    const byDue = [...outcomes].sort((a, b) => a.scheduledMs - b.scheduledMs);
    assert.equal(byDue.length, 20);
    byDue.forEach((o, k) => {
      const answeredAt = (k + 1) * DELAY_MS;
      assert.ok(
        o.latencyMs >= answeredAt - o.scheduledMs - 1,
        `request ${k}: latency ${o.latencyMs.toFixed(1)} ms, due at ${o.scheduledMs} ms`,
      );
    });
  });
});
