import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { MeterExistsError, newId, type Meter, type MeterAggregation } from '#domain';

export interface MeterRecord extends Meter {
  tenantId: string;
  createdAt: Date;
}

interface MeterRow {
  id: string;
  tenant_id: string;
  event_type: string;
  aggregation: MeterAggregation;
  property: string | null;
  unit_price: string;
  currency: string;
  created_at: Date;
}

const METER_COLUMNS = `id, tenant_id, event_type, aggregation, property, unit_price, currency, created_at`;

function toMeter(row: MeterRow): MeterRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    eventType: row.event_type,
    aggregation: row.aggregation,
    property: row.property,
    unitPrice: BigInt(row.unit_price),
    currency: row.currency,
    createdAt: row.created_at,
  };
}

/** Prices per event type, one meter per type and tenant. */
@Injectable()
export class MeterRepository {
  async create(manager: EntityManager, m: Omit<MeterRecord, 'id' | 'createdAt'>): Promise<MeterRecord> {
    try {
      const [row]: MeterRow[] = await manager.query(
        `INSERT INTO meters (id, tenant_id, event_type, aggregation, property, unit_price, currency)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${METER_COLUMNS}`,
        [
          newId('mtr'),
          m.tenantId,
          m.eventType,
          m.aggregation,
          m.property,
          m.unitPrice.toString(),
          m.currency,
        ],
      );
      return toMeter(row);
    } catch (error) {
      if ((error as { constraint?: string }).constraint === 'meters_tenant_id_event_type_key') {
        throw new MeterExistsError(m.eventType);
      }
      throw error;
    }
  }

  async list(
    manager: EntityManager,
    tenantId: string,
    page: { before?: string; limit: number },
  ): Promise<MeterRecord[]> {
    const rows: MeterRow[] = await manager.query(
      `SELECT ${METER_COLUMNS} FROM meters WHERE tenant_id = $1 AND ($2::text IS NULL OR id < $2)
        ORDER BY id DESC LIMIT $3`,
      [tenantId, page.before ?? null, page.limit],
    );
    return rows.map(toMeter);
  }

  /** The tenant's meters for these event types, by type. */
  async forTypes(
    manager: EntityManager,
    tenantId: string,
    types: string[],
  ): Promise<Map<string, MeterRecord>> {
    if (types.length === 0) return new Map();
    const rows: MeterRow[] = await manager.query(
      `SELECT ${METER_COLUMNS} FROM meters WHERE tenant_id = $1 AND event_type = ANY($2::text[])`,
      [tenantId, [...new Set(types)]],
    );
    return new Map(rows.map((r) => [r.event_type, toMeter(r)]));
  }
}
