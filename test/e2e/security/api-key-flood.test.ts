import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { generateApiKey } from '#domain';
import { Api, Stack, createTenant, inParallel, openDataSource, waitFor } from '#test-support';

/**
 * Made-up API keys (OWASP API2, API4): anyone can send well-formed keys that exist nowhere, and
 * each is looked up once and remembered as unknown. The gateway's key cache used to be one map
 * emptied whole past 10,000 entries, so a flood of made-up keys threw every valid key out with
 * them; valid and unknown keys are now remembered apart, each bounded.
 */
describe('a flood of made-up API keys', () => {
  let stack: Stack;
  let db: DataSource;

  beforeAll(async () => {
    stack = await Stack.start('keyflood', ['gateway']);
    db = await openDataSource(2);
  });
  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
  });

  const madeUp = (n: number) =>
    inParallel(n, 32, async () => {
      const res = await fetch(`${stack.url('gateway')}/v1/accounts`, {
        headers: { authorization: `Bearer ${generateApiKey().plaintext}` },
      });
      await res.arrayBuffer();
      return res.status;
    });

  it('does not push a valid key out of the cache', async () => {
    const { tenantId, apiKey } = await createTenant('flooded');
    const api = new Api(stack.url('gateway'), apiKey);
    // Just under the old cache's 10,000 entries, then the valid key, then past them.
    assert.ok((await madeUp(9_900)).every((s) => s === 401));
    assert.equal((await api.get('/v1/accounts')).status, 200);
    // Revoked now: a cached key keeps working until its entry expires (5 s), and only a lookup
    // would see the revocation — so a 200 below is an answer from the cache.
    await db.query(`UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1`, [tenantId]);
    assert.ok((await madeUp(200)).every((s) => s === 401));
    assert.equal((await api.get('/v1/accounts')).status, 200, 'the valid key was still cached');
    // And the revocation takes effect as promised, once the entry expires.
    await waitFor(
      'the revoked key to be refused',
      async () => (await api.get('/v1/accounts')).status === 401,
    );
  });
});
