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
