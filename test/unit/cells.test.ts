import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { ConfigError } from '#config';
import { newId } from '#domain';
import { loadAdminConfig } from '../../apps/admin/src/config.js';
import { refreshTokenTenant, unverifiedTenantClaim } from '../../tools/cell-router/src/router.js';

const DIRECTORY = 'postgres://tally_app@127.0.0.1:5432/tally_directory';

describe('tenant cells', () => {
  it('configures the admin as one cell with both cell variables, as the only cell with neither', () => {
    const cell = loadAdminConfig({ CELL_NAME: 'eu-1', CELL_DIRECTORY_URL: DIRECTORY });
    assert.equal(cell.CELL_NAME, 'eu-1');
    assert.equal(cell.CELL_DIRECTORY_URL, DIRECTORY);
    assert.equal(loadAdminConfig({}).CELL_DIRECTORY_URL, undefined);
  });

  it('refuses one cell variable without the other, and a name that is not a cell name', () => {
    const refused = (env: Record<string, string>, variable: string) =>
      assert.throws(
        () => loadAdminConfig(env),
        (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.variable === variable),
      );
    refused({ CELL_NAME: 'a' }, 'CELL_DIRECTORY_URL');
    refused({ CELL_DIRECTORY_URL: DIRECTORY }, 'CELL_NAME');
    refused({ CELL_NAME: 'EU_1', CELL_DIRECTORY_URL: DIRECTORY }, 'CELL_NAME');
    refused({ CELL_NAME: 'a', CELL_DIRECTORY_URL: 'http://example.com/' }, 'CELL_DIRECTORY_URL');
  });

  it("reads a customer token's tenant claim to choose the cell, and nothing that is not one", () => {
    const tenantId = newId('ten');
    const token = (claims: unknown) =>
      ['{"alg":"HS256"}', JSON.stringify(claims), 'sig']
        .map((p) => Buffer.from(p).toString('base64url'))
        .join('.');
    assert.equal(unverifiedTenantClaim(token({ tid: tenantId, sid: 'cs_x' })), tenantId);
    assert.equal(unverifiedTenantClaim(token({ tid: 'acc_01' })), null);
    assert.equal(unverifiedTenantClaim(token({ tid: 5 })), null);
    assert.equal(unverifiedTenantClaim(token({})), null);
    assert.equal(unverifiedTenantClaim('not.a.jwt'), null);
    assert.equal(unverifiedTenantClaim('tk_abc'), null);
  });

  it('reads the tenant a refresh token names from a refresh body, and nothing else', () => {
    const tenantId = newId('ten');
    const body = (value: unknown) => Buffer.from(JSON.stringify(value));
    assert.equal(refreshTokenTenant(body({ refreshToken: `csr_${tenantId}.abcDEF_-123` })), tenantId);
    assert.equal(
      refreshTokenTenant(body({ refreshToken: 'csr_Jm3v0c9yQ2oWk8e4tXl1bR7dN5sHf6gZ0aPqUyViTcE' })),
      null,
    );
    assert.equal(refreshTokenTenant(body({ refreshToken: `csr_acc_01.x` })), null);
    assert.equal(refreshTokenTenant(body({ refreshToken: 7 })), null);
    assert.equal(refreshTokenTenant(body(null)), null);
    assert.equal(refreshTokenTenant(Buffer.from('{not json')), null);
  });
});
