import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import {
  EventTypeLabels,
  InvalidEventSchemaError,
  MAX_EVENT_SCHEMA_CHARS,
  OTHER_EVENT_TYPE,
  compileEventSchema,
} from '#domain';

describe('event metrics: the type label has bounded cardinality', () => {
  it('a declared (registered or metered) type is its own label; any other type is `other`', () => {
    const labels = new EventTypeLabels();
    assert.equal(labels.label('api.call', true), 'api.call');
    assert.equal(labels.label('page.view', false), OTHER_EVENT_TYPE);
    assert.equal(labels.label('api.call', true), 'api.call');
  });

  it('a type literally named `other` is not a label of its own', () => {
    assert.equal(new EventTypeLabels().label('other', true), OTHER_EVENT_TYPE);
  });

  it('past the cap, new declared types are `other`; those already named keep their label', () => {
    const labels = new EventTypeLabels(3);
    assert.deepEqual(
      ['a', 'b', 'c', 'd', 'e', 'a', 'c'].map((t) => labels.label(t, true)),
      ['a', 'b', 'c', 'other', 'other', 'a', 'c'],
    );
    const seen = new Set<string>();
    const many = new EventTypeLabels();
    for (let i = 0; i < 10_000; i++) seen.add(many.label(`type.${i}`, i % 2 === 0));
    assert.equal(seen.size, 201); // 200 names and `other`
  });
});

describe('event type schemas (JSON Schema 2020-12, ajv)', () => {
  const refused = (schema: unknown) => {
    try {
      compileEventSchema(schema);
    } catch (error) {
      assert.ok(error instanceof InvalidEventSchemaError);
      assert.equal(error.code, 'invalid_event_schema');
      return error.problems;
    }
    assert.fail(`compiled: ${JSON.stringify(schema)}`);
  };

  it('validates properties, answering null or the messages with their paths', () => {
    const validate = compileEventSchema({
      type: 'object',
      properties: {
        tokens: { type: 'integer', minimum: 0 },
        email: { type: 'string', format: 'email' },
        tags: { type: 'array', prefixItems: [{ const: 'first' }] },
      },
      required: ['tokens'],
      additionalProperties: false,
    });
    assert.equal(validate({ tokens: 3, email: 'a@example.com', tags: ['first', 2] }), null);
    assert.deepEqual(validate({ tokens: -1, email: 'nope', more: 1 }), [
      'properties must NOT have additional properties (more)',
      'properties/tokens must be >= 0',
      'properties/email must match format "email"',
    ]);
    assert.deepEqual(validate({}), ["properties must have required property 'tokens'"]);
  });

  it('keeps at most 10 messages', () => {
    const validate = compileEventSchema({
      type: 'object',
      patternProperties: { '^p': { type: 'string' } },
    });
    const props = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`p${i}`, i]));
    assert.equal(validate(props)!.length, 10);
  });

  it('refuses what is not a JSON Schema: wrong types, unknown keywords, remote or dangling $refs, bad patterns', () => {
    for (const schema of [
      [],
      'object',
      null,
      { type: 'integr' },
      { type: 'object', required: 'a' },
      { tyep: 'object' },
      { $ref: 'https://example.com/s.json' },
      { $ref: '#/$defs/missing' },
      { type: 'string', pattern: '(' },
      { type: 'string', format: 'no-such-format' },
    ]) {
      assert.ok(refused(schema).length > 0, JSON.stringify(schema));
    }
  });

  it('refuses a schema larger than the limit', () => {
    const big = { description: 'x'.repeat(MAX_EVENT_SCHEMA_CHARS) };
    assert.match(refused(big)[0], /characters as JSON/);
  });

  it("compiles each schema on its own: two tenants' schemas may share an $id", () => {
    const a = compileEventSchema({ $id: 'https://example.com/e', type: 'object', required: ['a'] });
    const b = compileEventSchema({ $id: 'https://example.com/e', type: 'object', required: ['b'] });
    assert.equal(a({ a: 1 }), null);
    assert.notEqual(b({ a: 1 }), null);
  });
});
