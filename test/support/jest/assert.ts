/**
 * node:assert/strict, as the tests import it under Jest (jest.config.mjs maps the module here).
 *
 * Jest runs each test file in a VM context of its own: an object literal in a test has that
 * context's Object.prototype, while what Node's own modules make (fetch's res.json(), fs, http
 * headers) has the main context's. deepStrictEqual compares prototypes, so two such objects that
 * are equal in every other way would fail it ("no visual difference"). Here both sides first get
 * the test's own plain objects, arrays and dates for another context's; everything else (class
 * instances, buffers, maps…) is compared as node:assert compares it.
 */
import { strict } from 'node:assert';

/** The Object.prototype of some context (this one's or another's). */
const isObjectPrototype = (proto: object | null) =>
  proto !== null &&
  Object.getPrototypeOf(proto) === null &&
  (proto as { constructor?: { name?: string } }).constructor?.name === 'Object';

/** `value` with this context's arrays, plain objects and dates wherever it had another's. */
function ownRealm(value: unknown, seen = new Map<object, unknown>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    seen.set(value, copy);
    for (const key of Object.keys(value))
      (copy as unknown as Record<string, unknown>)[key] = ownRealm(
        (value as unknown as Record<string, unknown>)[key],
        seen,
      );
    return copy;
  }
  if (Object.prototype.toString.call(value) === '[object Date]' && !(value instanceof Date))
    return new Date((value as Date).getTime());
  if (!isObjectPrototype(Object.getPrototypeOf(value) as object | null)) return value;
  const copy: Record<string | symbol, unknown> = {};
  seen.set(value, copy);
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if ('value' in descriptor) descriptor.value = ownRealm(descriptor.value, seen);
    Object.defineProperty(copy, key, descriptor);
  }
  return copy;
}

/**
 * An expected error given as an Error instance of this context is not one to node:assert (its
 * `instanceof Error` is the main context's): it gets the properties node compares on an error.
 */
const MainContextError = Object.getPrototypeOf(strict.AssertionError.prototype)
  .constructor as ErrorConstructor;

function expectedError(expected: unknown): unknown {
  if (
    expected === null ||
    typeof expected !== 'object' ||
    Object.prototype.toString.call(expected) !== '[object Error]' ||
    expected instanceof MainContextError
  )
    return expected;
  const error = expected as Error;
  return { ...(ownRealm({ ...error }) as object), name: error.name, message: error.message };
}

type Assert = typeof strict;

const assert: Assert = Object.assign(
  function ok(value: unknown, message?: string | Error): asserts value {
    strict.ok(value, message);
  },
  strict,
  {
    deepEqual: (actual: unknown, expected: unknown, message?: string | Error) =>
      strict.deepEqual(ownRealm(actual), ownRealm(expected), message),
    deepStrictEqual: (actual: unknown, expected: unknown, message?: string | Error) =>
      strict.deepStrictEqual(ownRealm(actual), ownRealm(expected), message),
    notDeepEqual: (actual: unknown, expected: unknown, message?: string | Error) =>
      strict.notDeepEqual(ownRealm(actual), ownRealm(expected), message),
    notDeepStrictEqual: (actual: unknown, expected: unknown, message?: string | Error) =>
      strict.notDeepStrictEqual(ownRealm(actual), ownRealm(expected), message),
    throws: (fn: () => unknown, ...rest: unknown[]) =>
      (strict.throws as (...args: unknown[]) => void)(
        fn,
        ...rest.map((a, i) => (i === 0 ? expectedError(a) : a)),
      ),
    rejects: (promise: unknown, ...rest: unknown[]) =>
      (strict.rejects as (...args: unknown[]) => Promise<void>)(
        promise,
        ...rest.map((a, i) => (i === 0 ? expectedError(a) : a)),
      ),
  },
) as Assert;
(assert as { strict: Assert }).strict = assert;

export default assert;
