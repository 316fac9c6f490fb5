import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { dropDatabase, migrateDatabase } from '#persistence';
import { Stack, openDataSource, send, separateDatabase } from '#test-support';

/**
 * A newcomer who ran `npm run up` can sign in at once: a development first start with no operator
 * and no ADMIN_EMAIL/ADMIN_PASSWORD makes up an admin and prints where to sign in and with what —
 * once. (Under NODE_ENV=test, as every other test runs, and in production, nothing is made up.)
 */
describe('development first start: an operator to sign in with, printed once', () => {
  // A database of its own: only an empty operators table gets the made-up admin.
  const { ownerUrl, appUrl } = separateDatabase('devsignin');
  const env = { NODE_ENV: 'development', DATABASE_URL: appUrl, DATABASE_MIGRATION_URL: ownerUrl };
  let db: DataSource;

  beforeAll(async () => {
    await migrateDatabase({ DATABASE_MIGRATION_URL: ownerUrl, DATABASE_STATEMENT_TIMEOUT_MS: 60_000 });
    db = await openDataSource(2, ownerUrl);
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(ownerUrl);
  });

  it('prints the dashboard address and credentials that sign in; a restart prints none', async () => {
    const first = await Stack.start('devsignin', ['admin'], env);
    let printed: string;
    try {
      printed = first.process('admin').stdout.join('\n');
      const where = /Tally dashboard \(development\): (http:\/\/localhost:\d+\/)/.exec(printed);
      const what = /sign in as (\S+) with password (\S+)/.exec(printed);
      assert.ok(where && what, printed);
      assert.equal(where[1], `http://localhost:${new URL(first.url('admin')).port}/`);
      const login = await send(
        first.url('admin'),
        'POST',
        '/admin/api/auth/login',
        { 'content-type': 'application/json' },
        JSON.stringify({ email: what[1], password: what[2] }),
      );
      assert.equal(login.status, 200, login.text);
      const [op] = await db.query(`SELECT role, password_hash FROM operators WHERE email = $1`, [what[1]]);
      assert.equal(op.role, 'admin');
      assert.ok(!op.password_hash.includes(what[2]));
      // The password is not in the structured log lines either.
      assert.ok(
        first
          .process('admin')
          .logs()
          .every((l) => !JSON.stringify(l).includes(what[2])),
      );
    } finally {
      await first.stop();
    }
    const second = await Stack.start('devsignin', ['admin'], env);
    try {
      assert.doesNotMatch(second.process('admin').stdout.join('\n'), /sign in as/);
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM operators`);
      assert.equal(n, 1);
    } finally {
      await second.stop();
    }
  });
});
