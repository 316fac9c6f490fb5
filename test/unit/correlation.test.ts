import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from '@jest/globals';
import { Correlation, requestIdOf } from '#observability';

const request = (headers: Record<string, string | string[] | undefined>) =>
  ({ headers }) as unknown as IncomingMessage;

describe('correlation', () => {
  it('takes an acceptable X-Request-Id and remembers it per request', () => {
    const req = request({ 'x-request-id': 'abc-123' });
    assert.equal(requestIdOf(req), 'abc-123');
    assert.equal(requestIdOf(req), 'abc-123');
  });

  it('replaces a missing, oversized or non-printable one with a UUID, stable per request', () => {
    for (const headers of [
      {},
      { 'x-request-id': 'a'.repeat(129) },
      { 'x-request-id': 'has space' },
      { 'x-request-id': 'bad\u0000' },
    ]) {
      const req = request(headers);
      const id = requestIdOf(req);
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(requestIdOf(req), id);
    }
  });

  it('carries the id across awaits inside a unit of work, and not outside it', async () => {
    assert.equal(Correlation.id(), undefined);
    await Correlation.run({ correlationId: 'c1' }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(Correlation.id(), 'c1');
    });
    assert.equal(Correlation.id(), undefined);
  });
});
