import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from '@jest/globals';
import { repoRoot } from '../support/app-process.js';

// Idempotency has one owner: IdempotencyStore for the key's row and lock, @Idempotent for the
// POST routes. These read the sources, so a copy of either creeping back fails here.

function sources(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(repoRoot, path.join(e.parentPath, e.name)));
}
const code = ['apps', 'libs'].flatMap(sources).filter((f) => !f.includes('/migrations/'));
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
const filesMatching = (pattern: RegExp) => code.filter((f) => pattern.test(read(f))).sort();

const PROVIDER_EVENTS = 'apps/gateway/src/provider-events/provider-events.controller.ts';

describe('one owner of idempotency', () => {
  it('only IdempotencyStore touches idempotency_keys, and writes the key lock', () => {
    assert.deepEqual(filesMatching(/(FROM|INTO|UPDATE)\s+idempotency_keys/), [
      'libs/persistence/src/idempotency.store.ts',
      // acceptMany's set-based statement inserts many answers at once, under the store's lock.
      'libs/persistence/src/repositories/transaction.repository.ts',
    ]);
    assert.deepEqual(filesMatching(/hashtextextended\([^)]*\|\| ':' \|\|/), [
      'libs/persistence/src/idempotency.store.ts',
    ]);
    assert.match(
      read('libs/persistence/src/repositories/transaction.repository.ts'),
      /\$\{idempotencyKeyLock\('tenant_id', 'key'\)\}/,
    );
  });

  it('idempotency_key_required is raised in one place of the gateway', () => {
    const gateway = code.filter((f) => f.startsWith('apps/gateway/'));
    const raising = gateway.filter((f) => /ApiError\(\s*400,\s*'idempotency_key_required'/.test(read(f)));
    assert.deepEqual(raising, ['apps/gateway/src/idempotency/idempotent.ts']);
  });

  it('every gateway POST is @Idempotent, and no controller handles the key or the reply itself', () => {
    const controllers = code.filter((f) => f.startsWith('apps/gateway/') && f.endsWith('.controller.ts'));
    let posts = 0;
    for (const file of controllers) {
      const text = read(file);
      if (file === PROVIDER_EVENTS) {
        // The payment provider's webhooks: no tenant, no key; the provider's event id is recorded
        // once (provider_events' primary key) and a repeat answered as a duplicate.
        assert.match(text, /this\.payouts\.recordEvent\(/);
        assert.doesNotMatch(text, /@Idempotent\(/);
        continue;
      }
      assert.doesNotMatch(text, /@Headers\('idempotency-key'\)/i, file);
      assert.doesNotMatch(text, /@Res\(/, file);
      // Each @Post(...) is followed by @Idempotent(...) among the decorators of its handler.
      for (const match of text.matchAll(/@Post\([^)]*\)([\s\S]*?)\n {2}(?:async )?\w+\(/g)) {
        // A route without credentials (refreshing a customer session) has no tenant to scope a
        // key to; its refresh token is single-use by design.
        if (match[1].includes("@NoCredentials('customer-refresh')")) continue;
        posts++;
        assert.match(
          match[1],
          /@Idempotent\(\{ required: (true|false)/,
          `${file}: ${match[0].split('\n')[0]}`,
        );
      }
    }
    assert.ok(posts >= 13, `${posts} POST routes found`);
  });
});
