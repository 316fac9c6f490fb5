import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, ValidateBy } from 'class-validator';
import { MAX_EVENT_SCHEMA_CHARS, stringifyJson } from '#domain';
import { JsonFloat } from '../http/json.js';
import { InstantOut, PageOf, Pattern } from '../http/fields.js';
import { PageQuery } from '../http/pagination.js';

const EVENT_TYPE = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Whether a path parameter can name an event type. */
export const isEventTypeName = (type: string) => EVENT_TYPE.test(type);

export const EVENT_SCHEMA_EXAMPLE = {
  type: 'object',
  properties: {
    tokens: { type: 'integer', minimum: 0 },
    model: { enum: ['small', 'large'] },
  },
  required: ['tokens'],
  additionalProperties: false,
};

function schemaProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof JsonFloat)
    return 'must be a JSON object (a JSON Schema)';
  const size = stringifyJson(value).length;
  if (size > MAX_EVENT_SCHEMA_CHARS)
    return `must be at most ${MAX_EVENT_SCHEMA_CHARS} characters as JSON (is ${size})`;
  return null;
}

const SchemaField = () =>
  applyDecorators(
    ValidateBy({
      name: 'eventSchema',
      validator: {
        validate: (value) => schemaProblem(value) === null,
        defaultMessage: (args) => schemaProblem(args?.value) ?? 'must be a JSON object',
      },
    }),
    ApiProperty({
      type: 'object',
      additionalProperties: true,
      description:
        "A JSON Schema (draft 2020-12) that each event's `properties` must satisfy; compiled strictly " +
        `(unknown keywords and \`$ref\`s outside the schema are refused). At most ${MAX_EVENT_SCHEMA_CHARS} characters as JSON.`,
      example: EVENT_SCHEMA_EXAMPLE,
    }),
  );

/** POST /v1/event-types */
export class CreateEventTypeDto {
  @Pattern(EVENT_TYPE, 'must be 1-100 letters, digits, _ . : -', {
    description: 'The event type the schema applies to (the `type` of POST /v1/events).',
    example: 'api.call',
  })
  type!: string;

  @SchemaField()
  schema!: Record<string, unknown>;
}

/** PUT /v1/event-types/{type} */
export class ReplaceEventTypeDto {
  @SchemaField()
  schema!: Record<string, unknown>;
}

/** A path naming an event type. */
export class EventTypeParams {
  @IsString()
  @ApiProperty({ description: 'The event type.', example: 'api.call' })
  type!: string;
}

/** GET /v1/event-types */
export class ListEventTypesQuery extends PageQuery {}

/** An event type and the schema its events' properties must satisfy. */
export class EventTypeView {
  @ApiProperty({ example: 'api.call' })
  type!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: EVENT_SCHEMA_EXAMPLE })
  schema!: Record<string, unknown>;

  @ApiProperty({ type: 'integer', description: '1 when registered, +1 at each PUT.', example: 1 })
  version!: number;

  @InstantOut()
  createdAt!: string;

  @InstantOut()
  updatedAt!: string;
}

export class EventTypePage extends PageOf(EventTypeView, 'EventTypePage') {}

export const EVENT_TYPE_EXAMPLE = {
  type: 'api.call',
  schema: EVENT_SCHEMA_EXAMPLE,
  version: 1,
  createdAt: '2026-11-21T12:00:00.000Z',
  updatedAt: '2026-11-21T12:00:00.000Z',
};
