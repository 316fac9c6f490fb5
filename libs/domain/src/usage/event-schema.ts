import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { DomainError } from '../errors.js';

/** Largest event type schema, as compact JSON text (characters). */
export const MAX_EVENT_SCHEMA_CHARS = 16_384;
/** At most this many validation messages are kept for a failed event. */
export const MAX_SCHEMA_MESSAGES = 10;

/** `ajv-formats` is CommonJS: its plugin is the module itself, or its `default` under some loaders. */
const addFormats = ((ajvFormats as unknown as { default?: unknown }).default ?? ajvFormats) as (
  ajv: Ajv2020,
) => Ajv2020;

export class EventTypeExistsError extends DomainError {
  readonly code = 'event_type_exists';
  constructor(type: string) {
    super(`An event type "${type}" is already registered; change its schema with PUT.`);
  }
}

export class EventTypeNotFoundError extends DomainError {
  readonly code = 'event_type_not_found';
  constructor(type: string) {
    super(`No event type "${type}" is registered.`);
  }
}

/** A schema that ajv cannot compile as JSON Schema 2020-12 (or that is too large). */
export class InvalidEventSchemaError extends DomainError {
  readonly code = 'invalid_event_schema';
  constructor(readonly problems: string[]) {
    super(`The schema is not a valid JSON Schema (2020-12): ${problems.join('; ')}`);
  }
}

/** A compiled schema: answers null when `properties` satisfy it, else the messages (at most 10). */
export type EventValidator = (properties: unknown) => string[] | null;

function messages(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).slice(0, MAX_SCHEMA_MESSAGES).map((e) => {
    const at = e.instancePath === '' ? 'properties' : `properties${e.instancePath}`;
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${(e.params as { additionalProperty: string }).additionalProperty})`
        : e.keyword === 'enum'
          ? ` (${JSON.stringify((e.params as { allowedValues: unknown }).allowedValues)})`
          : '';
    return `${at} ${e.message ?? e.keyword}${extra}`;
  });
}

/**
 * Compiles an event type's JSON Schema (draft 2020-12, formats of ajv-formats) into a validator of
 * an event's `properties`. Strict: unknown keywords, and `$ref`s that do not resolve inside the
 * schema (nothing is fetched), refuse it. Each schema gets an ajv instance of its own, so tenants'
 * `$id`s never meet. Throws InvalidEventSchemaError.
 */
export function compileEventSchema(schema: unknown): EventValidator {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new InvalidEventSchemaError(['a schema is a JSON object']);
  }
  const size = JSON.stringify(schema).length;
  if (size > MAX_EVENT_SCHEMA_CHARS) {
    throw new InvalidEventSchemaError([`is ${size} characters as JSON; at most ${MAX_EVENT_SCHEMA_CHARS}`]);
  }
  const ajv = addFormats(
    new Ajv2020({
      allErrors: true,
      strict: true,
      strictTypes: false,
      strictTuples: false,
      strictRequired: false,
      logger: false,
      validateSchema: true,
    }),
  );
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    throw new InvalidEventSchemaError([(error as Error).message.slice(0, 500)]);
  }
  return (properties) => (validate(properties) ? null : messages(validate.errors));
}
