import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Contract, routesOf, send } from '#test-support';
import { ADMIN_PROBLEMS } from '../../apps/admin/src/docs/problems.js';
import { InProcessStack } from '../support/in-process.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OpenApi = Record<string, any>;

describe('admin API documentation (generated)', () => {
  let stack: InProcessStack;
  let doc: OpenApi;

  beforeAll(async () => {
    stack = await InProcessStack.start('admindocs', ['admin']);
    const res = await send(stack.url('admin'), 'GET', '/admin/docs-json');
    assert.equal(res.status, 200, res.text);
    doc = res.body;
  });
  afterAll(() => stack?.stop());

  const operations = () =>
    Object.entries<Record<string, OpenApi>>(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    );

  it('serves Swagger UI at /admin/docs and a valid OpenAPI 3.1 document at /admin/docs-json, without a token', async () => {
    const ui = await send(stack.url('admin'), 'GET', '/admin/docs');
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.components.securitySchemes.bearer, {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'An access token from sign-in.',
    });
    const validation = await new Validator().validate(doc);
    assert.ok(validation.valid, JSON.stringify(validation.errors, null, 2));
  });

  it('documents every route of the admin API, and nothing else', async () => {
    const routes = (await routesOf('admin')).map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    assert.ok(routes.length >= 30, `only ${routes.length} routes`);
    assert.deepEqual(
      operations()
        .map((o) => o.key)
        .sort(),
      routes.sort(),
    );
  });

  it("each operation names the role its @Needs gives it, and a token's 401 and a role's 403", async () => {
    for (const route of await routesOf('admin')) {
      const key = `${route.method.toLowerCase()} ${route.path}`;
      const role = Reflect.getMetadata('tally:admin-role', route.target) as string;
      const operation = doc.paths[route.path.replace(/:(\w+)/g, '{$1}')][route.method.toLowerCase()];
      assert.equal(operation['x-required-role'], role, key);
      if (role === 'public') {
        assert.equal(operation.security, undefined, key);
        assert.match(operation.description, /Open: no token needed\./, key);
        continue;
      }
      assert.deepEqual(operation.security, [{ bearer: [] }], key);
      assert.match(operation.description, new RegExp(`Needs the \\*\\*${role}\\*\\* role`), key);
      for (const status of ['401', '403']) assert.ok(operation.responses[status], `${key} ${status}`);
    }
  });

  it('every error answer has one example per code, and every code the admin answers is documented', () => {
    const documented = new Set<string>();
    for (const { key, operation } of operations()) {
      assert.ok(operation.summary, `${key} has a summary`);
      assert.ok(
        Object.keys(operation.responses).some((s) => s.startsWith('2')),
        `${key} documents its success`,
      );
      for (const [status, response] of Object.entries<OpenApi>(operation.responses)) {
        if (Number(status) < 400) continue;
        const examples = response.content?.['application/problem+json']?.examples as OpenApi;
        assert.ok(examples && Object.keys(examples).length > 0, `${key} ${status} has examples`);
        for (const [code, example] of Object.entries<OpenApi>(examples)) {
          assert.deepEqual(
            [example.value.code, example.value.status],
            [code, Number(status)],
            `${key} ${code}`,
          );
          documented.add(code);
        }
      }
    }
    assert.deepEqual([...documented].sort(), Object.keys(ADMIN_PROBLEMS).sort());
  });

  it('the contract check refuses an undocumented status, a field the document does not name, a wrong type', () => {
    const contract = new Contract(doc);
    const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' });
    const me = { id: 'op_x', email: 'a@b.io', role: 'viewer' };
    const ok = contract.problems('GET', '/admin/api/me', { status: 200, headers, body: me, text: '' });
    assert.deepEqual(ok, []);
    for (const [status, body, problem] of [
      [201, me, /status not documented/],
      [200, { ...me, password: 'x' }, /must NOT have additional properties/],
      [200, { ...me, role: 'root' }, /must be equal to one of the allowed values/],
      [200, { id: 'op_x' }, /must have required property/],
    ] as const) {
      const found = contract.problems('GET', '/admin/api/me', { status, headers, body, text: '' });
      assert.match(found.join('\n'), problem, JSON.stringify(body));
    }
    assert.match(
      contract.problems('GET', '/admin/api/tenants/ten_x/keys', {
        status: 404,
        headers,
        body: {},
        text: '',
      })[0],
      /content type application\/json not documented/,
    );
  });
});
