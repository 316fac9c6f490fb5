import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventTypeExistsError } from '#domain';

export interface EventTypeRecord {
  tenantId: string;
  type: string;
  /** The schema as JSON text. */
  schemaJson: string;
  /** 1 at creation, +1 per change. */
  version: number;
  /** Unique across every row ever written: what a cache of compiled schemas compares. */
  revision: string;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  tenant_id: string;
  type: string;
  schema: string;
  version: number;
  revision: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `tenant_id, type, schema::text AS schema, version, revision::text AS revision, created_at, updated_at`;

const toRecord = (r: Row): EventTypeRecord => ({
  tenantId: r.tenant_id,
  type: r.type,
  schemaJson: r.schema,
  version: r.version,
  revision: r.revision,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Event types a tenant registered, each with the JSON Schema its events' properties must satisfy. */
@Injectable()
export class EventTypeRepository {
  async create(
    manager: EntityManager,
    tenantId: string,
    type: string,
    schemaJson: string,
  ): Promise<EventTypeRecord> {
    const rows: Row[] = await manager.query(
      `INSERT INTO event_types (tenant_id, type, schema) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (tenant_id, type) DO NOTHING RETURNING ${COLUMNS}`,
      [tenantId, type, schemaJson],
    );
    if (rows.length === 0) throw new EventTypeExistsError(type);
    return toRecord(rows[0]);
  }

  /** Replaces the schema: version + 1, a new revision. Null when the type is not registered. */
  async replace(
    manager: EntityManager,
    tenantId: string,
    type: string,
    schemaJson: string,
  ): Promise<EventTypeRecord | null> {
    // TypeORM answers an UPDATE with [rows, affected].
    const [rows]: [Row[], number] = await manager.query(
      `UPDATE event_types SET schema = $3::jsonb, version = version + 1,
              revision = nextval('event_type_revisions'), updated_at = now()
        WHERE tenant_id = $1 AND type = $2 RETURNING ${COLUMNS}`,
      [tenantId, type, schemaJson],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async remove(manager: EntityManager, tenantId: string, type: string): Promise<boolean> {
    const [, count]: [unknown, number] = await manager.query(
      `DELETE FROM event_types WHERE tenant_id = $1 AND type = $2`,
      [tenantId, type],
    );
    return count > 0;
  }

  async find(manager: EntityManager, tenantId: string, type: string): Promise<EventTypeRecord | null> {
    const rows: Row[] = await manager.query(
      `SELECT ${COLUMNS} FROM event_types WHERE tenant_id = $1 AND type = $2`,
      [tenantId, type],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** A page of the tenant's event types by type, after `after`. */
  async list(
    manager: EntityManager,
    tenantId: string,
    page: { after?: string; limit: number },
  ): Promise<EventTypeRecord[]> {
    const rows: Row[] = await manager.query(
      `SELECT ${COLUMNS} FROM event_types WHERE tenant_id = $1 AND ($2::text IS NULL OR type > $2)
        ORDER BY type LIMIT $3`,
      [tenantId, page.after ?? null, page.limit],
    );
    return rows.map(toRecord);
  }

  /** The current revision of each registered type among `types` (no schema text: cheap to ask per batch). */
  async revisions(manager: EntityManager, tenantId: string, types: string[]): Promise<Map<string, string>> {
    if (types.length === 0) return new Map();
    const rows: { type: string; revision: string }[] = await manager.query(
      `SELECT type, revision::text AS revision FROM event_types WHERE tenant_id = $1 AND type = ANY($2::text[])`,
      [tenantId, [...new Set(types)]],
    );
    return new Map(rows.map((r) => [r.type, r.revision]));
  }

  /** The schemas of these types, as they are now. */
  async schemas(manager: EntityManager, tenantId: string, types: string[]): Promise<EventTypeRecord[]> {
    if (types.length === 0) return [];
    const rows: Row[] = await manager.query(
      `SELECT ${COLUMNS} FROM event_types WHERE tenant_id = $1 AND type = ANY($2::text[])`,
      [tenantId, [...new Set(types)]],
    );
    return rows.map(toRecord);
  }
}
