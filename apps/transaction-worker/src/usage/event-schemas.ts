import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { InvalidEventSchemaError, compileEventSchema, type EventValidator } from '#domain';
import { EventTypeRepository } from '#persistence';

/** Most compiled schemas one worker keeps; the least recently used go first. */
const MAX_CACHED = 1000;

/**
 * The compiled schemas of registered event types, per tenant + type + revision. Each batch asks
 * the database for the current revisions of its types (one indexed read, no schema text) and
 * compiles only what changed: a PUT or DELETE in the gateway reaches every worker process at its
 * next batch, with nothing to broadcast.
 */
@Injectable()
export class EventSchemas {
  private readonly cache = new Map<string, { revision: string; validate: EventValidator }>();

  constructor(@Inject(EventTypeRepository) private readonly eventTypes: EventTypeRepository) {}

  /** The validators of the registered types among `types`, by type. */
  async validatorsFor(
    manager: EntityManager,
    tenantId: string,
    types: string[],
  ): Promise<Map<string, EventValidator>> {
    const revisions = await this.eventTypes.revisions(manager, tenantId, types);
    const found = new Map<string, EventValidator>();
    const stale: string[] = [];
    for (const [type, revision] of revisions) {
      const key = `${tenantId}\u0000${type}`;
      const cached = this.cache.get(key);
      if (cached?.revision === revision) {
        this.cache.delete(key); // most recently used last
        this.cache.set(key, cached);
        found.set(type, cached.validate);
      } else stale.push(type);
    }
    for (const row of await this.eventTypes.schemas(manager, tenantId, stale)) {
      const validate = compileStored(row.schemaJson);
      this.cache.set(`${tenantId}\u0000${row.type}`, { revision: row.revision, validate });
      found.set(row.type, validate);
    }
    while (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    return found;
  }

  /** How many compiled schemas are cached (tests). */
  get size(): number {
    return this.cache.size;
  }
}

/** A stored schema compiles (the gateway compiled it first); if it ever did not, its events fail saying so. */
function compileStored(schemaJson: string): EventValidator {
  try {
    return compileEventSchema(JSON.parse(schemaJson));
  } catch (error) {
    const why = error instanceof InvalidEventSchemaError ? error.problems.join('; ') : String(error);
    return () => [`the registered schema does not compile: ${why}`];
  }
}
