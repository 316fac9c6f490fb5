import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { IsInt, IsOptional, IsString, Min, getMetadataStorage, validateSync } from 'class-validator';
import { memoizeValidationMetadata } from '#http';

class Base {
  @IsString()
  name!: unknown;
}

class Child extends Base {
  @IsInt()
  count!: unknown;

  @IsOptional()
  @IsString({ groups: ['strict'] })
  note?: unknown;
}

const OPTIONS = { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true };
const INPUTS: object[] = [
  { name: 'a', count: 1 },
  { name: 1, count: 'x' },
  { name: 'a', count: 1, note: 5 },
  { name: 'a', count: 1, other: true },
  {},
];

/** Each input's broken rules, per field, without and with the 'strict' group. */
function outcomes(): unknown[] {
  return INPUTS.flatMap((input) =>
    [undefined, ['strict']].map((groups) =>
      validateSync(Object.assign(new Child(), input), { ...OPTIONS, groups }).map((error) => [
        error.property,
        Object.keys(error.constraints ?? {}).sort(),
      ]),
    ),
  );
}

describe('memoizeValidationMetadata', () => {
  const storage = getMetadataStorage();
  const before = outcomes();
  const lookedUp = storage.getTargetValidationMetadatas(Child, '', false, false, undefined);
  memoizeValidationMetadata();

  it('validates as class-validator does, looking each class up once', () => {
    assert.deepEqual(outcomes(), before);
    const first = storage.getTargetValidationMetadatas(Child, '', false, false, undefined);
    assert.deepEqual(first, lookedUp);
    assert.equal(storage.getTargetValidationMetadatas(Child, '', false, false, undefined), first);
    assert.equal(storage.groupByPropertyName(first), storage.groupByPropertyName(first));
    assert.ok(Object.isFrozen(first), 'a kept answer cannot be changed by a caller');
    // Groups have answers of their own.
    const strict = storage.getTargetValidationMetadatas(Child, '', false, false, ['strict']);
    assert.notEqual(strict, first);
    assert.deepEqual(
      strict.map((m) => [m.propertyName, m.groups]),
      [['note', ['strict']]],
    );
  });

  it('sees a rule registered after a lookup', () => {
    assert.deepEqual(validateSync(Object.assign(new Child(), { name: 'a', count: 1 }), OPTIONS), []);
    Min(5)(Child.prototype, 'count');
    const errors = validateSync(Object.assign(new Child(), { name: 'a', count: 1 }), OPTIONS);
    assert.deepEqual(
      errors.map((error) => [error.property, Object.keys(error.constraints ?? {})]),
      [['count', ['min']]],
    );
  });

  it('installs once', () => {
    const lookup = storage.getTargetValidationMetadatas;
    memoizeValidationMetadata();
    assert.equal(storage.getTargetValidationMetadatas, lookup);
  });
});
