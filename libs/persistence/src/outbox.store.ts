import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { newId, stringifyJson } from '#domain';
import { queryPreparedIn } from './prepared.js';

/** A message to publish once the surrounding database transaction commits. */
export interface OutboxMessageInput {
  /** Logical exchange name (`tally.commands`, `tally.events`); the relay adds the configured prefix. */
  exchange: string;
  routingKey: string;
  /** Message type, the consumer's handler pattern; defaults to the routing key. */
  type?: string;
  payload: object;
  messageId?: string;
  correlationId?: string | null;
  schemaVersion?: number;
  headers?: Record<string, unknown>;
}

/**
 * Writes outbox rows inside the caller's transaction: the rows commit with the business change
 * or not at all. One multi-row INSERT whatever the number of messages.
 */
@Injectable()
export class OutboxStore {
  async enqueue(manager: EntityManager, messages: OutboxMessageInput[]): Promise<string[]> {
    if (messages.length === 0) return [];
    const { sql, params, ids } = OutboxStore.insertStatement(messages, 1);
    await queryPreparedIn(manager, 'tally_outbox_enqueue', sql, params);
    return ids;
  }

  /**
   * The INSERT for `messages`, with its parameters numbered from `first`, so a caller can write
   * outbox rows in the same statement as the change they announce (one round trip).
   */
  static insertStatement(
    messages: OutboxMessageInput[],
    first: number,
  ): { sql: string; params: unknown[]; ids: string[] } {
    const params = OutboxStore.columns(messages);
    const p = (i: number) => `$${first + i}`;
    return {
      ids: params[0] as string[],
      sql: `INSERT INTO outbox (message_id, exchange, routing_key, message_type, schema_version, payload, headers, correlation_id)
       SELECT * FROM unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::int[], ${p(5)}::jsonb[], ${p(6)}::jsonb[], ${p(7)}::text[])`,
      params,
    };
  }

  /**
   * The outbox columns of `messages` as eight parallel arrays (message_id, exchange, routing_key,
   * message_type, schema_version, payload, headers, correlation_id), for an `unnest` insert.
   */
  static columns(messages: OutboxMessageInput[]): unknown[][] {
    return [
      messages.map((m) => m.messageId ?? newId('msg')),
      messages.map((m) => m.exchange),
      messages.map((m) => m.routingKey),
      messages.map((m) => m.type ?? m.routingKey),
      messages.map((m) => m.schemaVersion ?? 1),
      messages.map((m) => stringifyJson(m.payload)),
      messages.map((m) => stringifyJson(m.headers ?? {})),
      messages.map((m) => m.correlationId ?? null),
    ];
  }
}
