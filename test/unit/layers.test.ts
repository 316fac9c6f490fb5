import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { repoRoot } from '../support/app-process.js';

// The layer rules live in eslint.config.js; these cases would pass silently if the rule broke.
const eslint = new ESLint({ cwd: repoRoot });
async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return result.messages.filter((m) => m.ruleId === 'tally/layers').map((m) => m.message);
}

describe('layer rules (lint)', () => {
  it('libs/domain imports no framework, no I/O and nothing of ours', async () => {
    assert.equal(
      (
        await layerErrors(
          'libs/domain/src/x.ts',
          `import { Injectable } from '@nestjs/common';\nexport const a = Injectable;\n`,
        )
      ).length,
      1,
    );
    assert.equal(
      (
        await layerErrors(
          'libs/domain/src/x.ts',
          `import { DataSource } from 'typeorm';\nexport const a = DataSource;\n`,
        )
      ).length,
      1,
    );
    assert.equal(
      (
        await layerErrors(
          'libs/domain/src/x.ts',
          `import { Metrics } from '#observability';\nexport const a = Metrics;\n`,
        )
      ).length,
      1,
    );
    assert.equal(
      (
        await layerErrors(
          'libs/domain/src/x.ts',
          `import { newId } from './ids.js';\nexport const a = newId;\n`,
        )
      ).length,
      0,
    );
  });

  it('a lib never imports an app', async () => {
    const errors = await layerErrors(
      'libs/messaging/src/x.ts',
      `import { a } from '../../../apps/gateway/src/config.js';\nexport const b = a;\n`,
    );
    assert.equal(errors.length, 1);
  });

  it('an app never imports another app', async () => {
    const errors = await layerErrors(
      'apps/admin/src/x.ts',
      `import { a } from '../../gateway/src/config.js';\nexport const b = a;\n`,
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0], /reaches into apps\/gateway/);
  });

  it('apps use libs through their aliases, not relative paths', async () => {
    assert.equal(
      (
        await layerErrors(
          'apps/gateway/src/x.ts',
          `import { Metrics } from '#observability';\nexport const a = Metrics;\n`,
        )
      ).length,
      0,
    );
    assert.equal(
      (
        await layerErrors(
          'apps/gateway/src/x.ts',
          `import { Metrics } from '../../../libs/observability/src/index.js';\nexport const a = Metrics;\n`,
        )
      ).length,
      1,
    );
  });

  it('production code never imports test support', async () => {
    assert.equal(
      (
        await layerErrors(
          'apps/gateway/src/x.ts',
          `import { waitFor } from '#test-support';\nexport const a = waitFor;\n`,
        )
      ).length,
      1,
    );
  });
});

describe('no SQL in controllers (lint)', () => {
  async function sqlErrors(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
    return result.messages.filter((m) => m.ruleId === 'tally/no-sql-in-controllers').map((m) => m.message);
  }

  it('a controller anywhere in apps/ that runs a query fails the lint', async () => {
    for (const call of [
      'this.dataSource.query(`SELECT 1`)',
      'this.dataSource.manager.query(`SELECT 1`)',
      'm.query(`UPDATE tenants SET status = $1`, [s])',
      "this.dataSource.createQueryBuilder().select('1')",
    ]) {
      const errors = await sqlErrors(
        'apps/gateway/src/x/x.controller.ts',
        `export const f = (m: any, s: string) => ${call};\n`,
      );
      assert.equal(errors.length, 1, call);
      assert.match(errors[0], /no SQL in a controller/);
    }
  });

  it('a repository may, and a controller may take parameters named query', async () => {
    assert.deepEqual(
      await sqlErrors(
        'apps/admin/src/x/x.repository.ts',
        'export const f = (m: any) => m.query(`SELECT 1`);\n',
      ),
      [],
    );
    assert.deepEqual(
      await sqlErrors(
        'apps/admin/src/x/x.controller.ts',
        'export const f = (repo: any, query: { a: string }) => repo.list(query.a);\n',
      ),
      [],
    );
  });

  it('no controller in the tree runs SQL today', async () => {
    const results = await eslint.lintFiles(['apps/**/*.controller.ts']);
    const found = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId === 'tally/no-sql-in-controllers')
        .map((m) => `${path.relative(repoRoot, r.filePath)}:${m.line}`),
    );
    assert.deepEqual(found, []);
  });
});

describe('only libs/ledger writes balances and ledger entries (lint)', () => {
  async function moneyErrors(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
    return result.messages.filter((m) => m.ruleId === 'tally/only-ledger-writes-money').map((m) => m.message);
  }

  it('SQL writing accounts or ledger entries fails the lint anywhere in apps/ and libs/', async () => {
    for (const [file, sql] of [
      ['apps/gateway/src/x/x.service.ts', '`UPDATE accounts SET posted = posted + $2 WHERE id = $1`'],
      ['apps/admin/src/x/x.repository.ts', "'update accounts a set held = 0'"],
      ['libs/persistence/src/x.ts', '`\n  INSERT INTO ledger_entries (id, amount)\n  VALUES (${1}, $2)`'],
      ['apps/transaction-worker/src/x.ts', '`DELETE FROM ledger_entries WHERE id = $1`'],
    ]) {
      const errors = await moneyErrors(file, `export const f = (m: any) => m.query(${sql});\n`);
      assert.equal(errors.length, 1, `${file}: ${sql}`);
      assert.match(errors[0], /only libs\/ledger writes balances and ledger entries/);
    }
  });

  it('libs/ledger, migrations and reads may', async () => {
    const write = 'export const f = (m: any) => m.query(`UPDATE accounts SET posted = 1`);\n';
    assert.deepEqual(await moneyErrors('libs/ledger/src/ledger.store.ts', write), []);
    assert.deepEqual(await moneyErrors('libs/persistence/src/migrations/1-x.ts', write), []);
    assert.deepEqual(
      await moneyErrors(
        'apps/admin/src/x/x.repository.ts',
        'export const f = (m: any) => m.query(`SELECT posted FROM accounts JOIN ledger_entries e ON true`);\n',
      ),
      [],
    );
  });

  it('nothing outside libs/ledger writes them today', async () => {
    const results = await eslint.lintFiles(['apps/**/*.ts', 'libs/**/*.ts']);
    const found = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId === 'tally/only-ledger-writes-money')
        .map((m) => `${path.relative(repoRoot, r.filePath)}:${m.line}`),
    );
    assert.deepEqual(found, []);
  });
});
