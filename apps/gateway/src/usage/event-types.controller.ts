import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import {
  EventTypeNotFoundError,
  InvalidEventSchemaError,
  compileEventSchema,
  parseJson,
  stringifyJson,
} from '#domain';
import { ApiError } from '#http';
import { EventTypeRepository, type EventTypeRecord } from '#persistence';
import type { Tenant } from '../auth/api-key.guard.js';
import { CurrentTenant } from '../auth/current-tenant.decorator.js';
import { Answer, REPLAYED } from '../docs/operations.js';
import { ApiProblems, BODY_PROBLEMS, KEY_PROBLEMS, PATH_PROBLEMS, QUERY_PROBLEMS } from '../docs/problems.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { Idempotent, idempotentWrite, type IdempotentWrite } from '../idempotency/idempotent.js';
import {
  CreateEventTypeDto,
  EVENT_SCHEMA_EXAMPLE,
  EVENT_TYPE_EXAMPLE,
  EventTypePage,
  EventTypeParams,
  EventTypeView,
  ListEventTypesQuery,
  ReplaceEventTypeDto,
  isEventTypeName,
} from './event-types.dto.js';

/**
 * The schema as JSON text, once ajv compiled it: a schema that does not compile is a 422 with
 * ajv's reasons, and nothing is stored. The body was parsed losslessly (big integers, floats as
 * written); the text keeps them so.
 */
function compiled(schema: Record<string, unknown>): string {
  const text = stringifyJson(schema);
  try {
    compileEventSchema(JSON.parse(text));
  } catch (error) {
    if (error instanceof InvalidEventSchemaError) {
      throw new ApiError(
        422,
        error.code,
        'The schema is not a valid JSON Schema (draft 2020-12).',
        error.problems.map((message) => ({ field: 'schema', message })),
      );
    }
    throw error;
  }
  return text;
}

function presentEventType(t: EventTypeRecord) {
  return {
    type: t.type,
    schema: parseJson(t.schemaJson),
    version: t.version,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

const UPDATED_EXAMPLE = { ...EVENT_TYPE_EXAMPLE, version: 2, updatedAt: '2026-11-22T09:30:00.000Z' };

@ApiTags('Usage')
@Controller('v1/event-types')
export class EventTypesController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(EventTypeRepository) private readonly eventTypes: EventTypeRepository,
  ) {}

  @Post()
  @ApiOperation({
    operationId: 'createEventType',
    summary: 'Register an event type with the JSON Schema of its properties',
    description:
      "From then on each event of this type whose `properties` do not satisfy the schema fails `schema_violation` when processed, with ajv's messages " +
      '(GET /v1/events/{id} `failure`): never retried, never charged. Events already processed are not checked again. ' +
      'A schema ajv cannot compile (draft 2020-12, strict) answers 422 `invalid_event_schema` with the reasons in `errors`.',
  })
  @Idempotent({ required: false })
  @ApiBody({
    type: CreateEventTypeDto,
    examples: { apiCall: { summary: 'api.call', value: { type: 'api.call', schema: EVENT_SCHEMA_EXAMPLE } } },
  })
  @Answer(201, EventTypeView, 'Registered', { example: EVENT_TYPE_EXAMPLE, headers: REPLAYED })
  @ApiProblems(...BODY_PROBLEMS, 'event_type_exists', 'invalid_event_schema', ...KEY_PROBLEMS)
  create(@CurrentTenant() tenant: Tenant, @Body() input: CreateEventTypeDto): IdempotentWrite {
    const schema = compiled(input.schema);
    return idempotentWrite(async (manager) => {
      const created = await this.eventTypes.create(manager, tenant.tenantId, input.type, schema);
      return { status: 201, body: presentEventType(created), headers: {} };
    });
  }

  @Get()
  @ApiOperation({ operationId: 'listEventTypes', summary: 'List event types, by type' })
  @Answer(200, EventTypePage, 'A page of event types', {
    example: { data: [EVENT_TYPE_EXAMPLE], nextCursor: null },
  })
  @ApiProblems(...QUERY_PROBLEMS)
  async list(@CurrentTenant() tenant: Tenant, @Query() q: ListEventTypesQuery) {
    const limit = q.limit ?? 20;
    const rows = await this.eventTypes.list(this.dataSource.manager, tenant.tenantId, {
      after: decodeCursor(q.cursor, isEventTypeName),
      limit: limit + 1,
    });
    return pageOf(rows, limit, (t) => t.type, presentEventType);
  }

  @Get(':type')
  @ApiOperation({ operationId: 'getEventType', summary: 'Get an event type and its schema' })
  @Answer(200, EventTypeView, 'The event type', { example: EVENT_TYPE_EXAMPLE })
  @ApiProblems(...PATH_PROBLEMS, 'event_type_not_found')
  async get(@CurrentTenant() tenant: Tenant, @Param() { type }: EventTypeParams) {
    const found = isEventTypeName(type)
      ? await this.eventTypes.find(this.dataSource.manager, tenant.tenantId, type)
      : null;
    if (!found) throw new EventTypeNotFoundError(type);
    return presentEventType(found);
  }

  @Put(':type')
  @ApiOperation({
    operationId: 'replaceEventType',
    summary: "Replace an event type's schema",
    description:
      'The new schema (version + 1) applies to events processed from then on, in every worker: each compares the version it compiled with the stored one. ' +
      'A schema that does not compile answers 422 `invalid_event_schema` and changes nothing.',
  })
  @ApiBody({
    type: ReplaceEventTypeDto,
    examples: {
      loosen: { summary: 'Allow any model', value: { schema: { type: 'object', required: ['tokens'] } } },
    },
  })
  @Answer(200, EventTypeView, 'Replaced', { example: UPDATED_EXAMPLE })
  @ApiProblems(...BODY_PROBLEMS, ...PATH_PROBLEMS, 'event_type_not_found', 'invalid_event_schema')
  async replace(
    @CurrentTenant() tenant: Tenant,
    @Param() { type }: EventTypeParams,
    @Body() input: ReplaceEventTypeDto,
  ) {
    const schema = compiled(input.schema);
    const replaced = isEventTypeName(type)
      ? await this.eventTypes.replace(this.dataSource.manager, tenant.tenantId, type, schema)
      : null;
    if (!replaced) throw new EventTypeNotFoundError(type);
    return presentEventType(replaced);
  }

  @Delete(':type')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteEventType',
    summary: 'Delete an event type',
    description: 'Events of this type processed from then on are no longer checked against a schema.',
  })
  @Answer(204, null, 'Deleted')
  @ApiProblems(...PATH_PROBLEMS, 'event_type_not_found')
  async remove(@CurrentTenant() tenant: Tenant, @Param() { type }: EventTypeParams) {
    if (
      !isEventTypeName(type) ||
      !(await this.eventTypes.remove(this.dataSource.manager, tenant.tenantId, type))
    ) {
      throw new EventTypeNotFoundError(type);
    }
  }
}
